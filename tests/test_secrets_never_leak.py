"""Secrets (webhook secrets, API tokens, the Anthropic key, paging routing keys, hook tokens)
are readable by system administrators only, and never end up in logs, chatter, stored error
messages or HTTP answers, also when the services they unlock fail."""

import json
import logging
import re
import socket
from contextlib import contextmanager

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from ..autopilot.testing.github_server import FakeGitHub
from .common import SECRET, OpsHttpCase, signed_headers
from .monitoring_common import ROUTING_KEY, MonitoringCase

#: secret-looking field names; each such field must be restricted to system administrators
SECRET_NAME = re.compile(r"(secret|token|api_key|routing_key|password)$")
#: the secrets the product has today (a rename or removal must be noticed here)
KNOWN_SECRET_FIELDS = {
    ("ops.repository", "webhook_secret"),
    ("ops.repository", "token"),
    ("ops.health.target", "paging_routing_key"),
    ("ops.remediation.policy", "hook_token"),
    ("res.config.settings", "ops_anthropic_api_key"),
    ("res.config.settings", "ops_paging_routing_key"),
}
SECRET_PARAMS = ("ops_autopilot.anthropic_api_key", "ops_autopilot.paging_routing_key")
TOKEN = "ghp_" + "L3akT3st" * 5
API_KEY = "sk-ant-api03-" + "K" * 40
HOOK_TOKEN = "hooktoken-" + "H" * 30


def secret_fields(env):
    found = set()
    for name in env.registry:
        if not (name.startswith("ops.") or name == "res.config.settings"):
            continue
        for field in env[name]._fields.values():
            writable_only = field.compute and field.inverse  # new_*: write-only, always read back empty
            if SECRET_NAME.search(field.name) and field.type == "char" and not writable_only:
                if name == "res.config.settings" and not field.name.startswith("ops_"):
                    continue
                found.add((name, field.name))
    return found


class _Capture(logging.Handler):
    """Every log record, formatted with its traceback, as one text."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.records = []

    def emit(self, record):
        self.records.append(self.format(record))

    @property
    def text(self):
        return "\n".join(self.records)


@contextmanager
def captured_logs():
    """Capture all logging, the addon's own at DEBUG level."""
    handler = _Capture()
    root = logging.getLogger()
    ours = logging.getLogger("odoo.addons.ops_autopilot")
    level = ours.level
    root.addHandler(handler)
    ours.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        ours.setLevel(level)
        root.removeHandler(handler)


def closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@tagged("post_install", "-at_install")
class TestSecretsAreForSystemAdministrators(OpsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.repo.token = TOKEN
        cls.target = cls.env["ops.health.target"].create(
            {"name": "shop", "url": "http://127.0.0.1:9/", "paging_routing_key": "R" * 32}
        )
        cls.policy = cls.env["ops.remediation.policy"].create({"name": "heal", "hook_token": HOOK_TOKEN})
        for key in SECRET_PARAMS:
            cls.env["ir.config_parameter"].set_param(key, API_KEY)
        cls.users = {
            "internal": new_test_user(cls.env, "sec_internal", groups="base.group_user,base.group_allow_export"),
            # with the export right: exporting is one more way to ask for a field
            "ops user": new_test_user(
                cls.env, "sec_user", groups="ops_autopilot.group_ops_user,base.group_allow_export"
            ),
            "ops manager": new_test_user(
                cls.env, "sec_manager", groups="ops_autopilot.group_ops_manager,base.group_allow_export"
            ),
        }
        cls.admin = new_test_user(cls.env, "sec_admin", groups="base.group_system,ops_autopilot.group_ops_manager")

    def test_every_secret_field_is_restricted_to_system_administrators(self):
        found = secret_fields(self.env)
        self.assertLessEqual(KNOWN_SECRET_FIELDS, found)
        for model, name in sorted(found):
            with self.subTest(field=f"{model}.{name}"):
                self.assertEqual(self.env[model]._fields[name].groups, "base.group_system")
                if not self.env[model]._transient:
                    self.assertFalse(self.env[model]._fields[name].copy, "a copy never carries the secret")

    def test_below_system_administrator_no_way_reads_a_secret(self):
        records = {"ops.repository": self.repo, "ops.health.target": self.target, "ops.remediation.policy": self.policy}
        for label, user in self.users.items():
            for model, name in sorted(secret_fields(self.env)):
                if model not in records:
                    continue
                Model = self.env[model].with_user(user)
                record = records[model].with_user(user)
                with self.subTest(user=label, field=f"{model}.{name}"):
                    self.assertNotIn(name, Model.fields_get(), "not even listed")
                    probes = {
                        "read": lambda r=record, n=name: r.read([n]),
                        "web_read": lambda r=record, n=name: r.web_read({n: {}}),
                        "search_read": lambda M=Model, n=name: M.search_read([], [n]),
                        "search on it": lambda M=Model, n=name: M.search([(n, "=like", "g%")]),
                        "order by it": lambda M=Model, n=name: M.search([], order=n),
                        "group by it": lambda M=Model, n=name: M.read_group([], [n], [n]),
                        "export": lambda r=record, n=name: r.export_data([n]),
                    }
                    for probe, call in probes.items():
                        self.env.invalidate_all()  # as in a request: nothing read by superuser code beforehand
                        with self.assertRaises(AccessError, msg=probe):
                            call()
        for label, user in self.users.items():
            for key in SECRET_PARAMS:
                with self.subTest(user=label, param=key), self.assertRaises(AccessError):
                    self.env["ir.config_parameter"].with_user(user).get_param(key)
            with self.subTest(user=label, model="res.config.settings"), self.assertRaises(AccessError):
                self.env["res.config.settings"].with_user(user).create({})

    def test_write_only_fields_never_read_back_and_the_administrator_reads(self):
        manager = self.users["ops manager"]
        repo = self.repo.with_user(manager)
        repo.write({"new_webhook_secret": "rotated-by-manager", "new_token": "ghp_" + "M" * 36})
        target = self.target.with_user(manager)
        target.write({"new_routing_key": "N" * 32})
        self.env.invalidate_all()
        self.assertEqual(repo.read(["new_webhook_secret", "new_token"])[0]["new_token"], False)
        self.assertFalse(repo.new_webhook_secret)
        self.assertFalse(target.new_routing_key)
        self.assertTrue(repo.has_webhook_secret and repo.has_token and target.has_routing_key)
        admin_repo = self.repo.with_user(self.admin)
        self.assertEqual(admin_repo.webhook_secret, "rotated-by-manager")
        self.assertFalse(admin_repo.copy({"full_name": "acme/copy"}).sudo().webhook_secret)

    def test_deliveries_and_failing_github_calls_keep_secrets_out_of_logs_answers_and_messages(self):
        github = FakeGitHub(token=TOKEN).start()
        self.addCleanup(github.stop)
        github.add_repo("acme/erp")
        self.repo.write({"api_url": github.url, "hook_id": 4242})
        answers = []
        with captured_logs() as logs:
            good = json.dumps(self.run_payload()).encode()
            for secret in (SECRET, "not-the-secret", None):
                answers.append(self.post(good, signed_headers(good, "workflow_run", secret=secret)).text)
            broken = self.run_payload(run_id=5550002)
            broken["workflow_run"]["id"] = "not-an-id"
            answers.append(self.post_event("workflow_run", broken).text)
            self.process()
            # GitHub refuses the token, fails, echoes the credential back, is unreachable
            failures = (
                {"status": 401, "body": {"message": "Bad credentials"}},
                {"status": 401, "body": {"message": f"Bad credentials: token {TOKEN}"}},
                {"status": 403, "body": {"message": f"Authorization: Bearer {TOKEN} lacks scope"}},
            )
            for failure in failures:
                github.fail_next(count=10, **failure)
                self.repo.last_sync_attempt_at = False
                self.repo.action_sync_from_github()
                self.assertEqual(self.repo.last_sync_state, "failed")
                answers.append(self.repo.last_sync_message)
                github.reset()
                github.add_repo("acme/erp")
        self.env.invalidate_all()
        stored = [*self.Delivery.search([]).mapped("error"), *answers]
        messages = self.env["mail.message"].search([("model", "like", "ops.")]).mapped("body")
        for secret in (SECRET, TOKEN):
            with self.subTest(secret=secret[:6]):
                self.assertNotIn(secret, logs.text)
                self.assertNotIn(secret, str(stored))
                self.assertNotIn(secret, str(messages))
        self.assertIn("GitHub delivery", logs.text, "the capture did see the addon's logs")


@tagged("post_install", "-at_install")
class TestMonitoringSecretsNeverLeak(MonitoringCase):
    def test_failing_hooks_paging_and_github_keep_their_credentials_to_themselves(self):
        self.env["ir.config_parameter"].set_param("ops_autopilot.paging_routing_key", ROUTING_KEY)
        failing_hook = self.targets.url_for("/status/500")
        policy = self.policy([("down", "restart_service", "http_hook", False)], hook_url=failing_hook)
        policy.hook_token = HOOK_TOKEN
        healed = self.make_target("/status/500", repository_id=self.repo.id, remediation_policy_id=policy.id)
        paged = self.make_target("/status/503", repository_id=self.repo.id, on_call_user_id=self.ops_user.id)
        paged.paging_routing_key = ROUTING_KEY
        with captured_logs() as logs:
            self.pagerduty.fail_next(count=3, status=500, body={"status": "error", "message": ROUTING_KEY})
            self.github.fail_next(
                count=50, status=401, body={"message": f"Bad credentials: token {self.repo.sudo().token}"}
            )
            self.tick(9)
            self.env["ir.config_parameter"].set_param("ops_autopilot.paging_url", closed_port_url())
            self.tick(3, minutes=5)
        incidents = self.Incident.search([("target_id", "in", (healed | paged).ids)])
        self.assertTrue(incidents, "the outages did open incidents")
        actions = self.Action.search([("incident_id", "in", incidents.ids)])
        self.assertTrue(actions, "the healing hook was called")
        chatter = str(incidents.message_ids.mapped("body"))
        self.assertIn("GitHub issue could not be opened", chatter, "GitHub failed while holding the token")
        self.assertIn("paging failed", chatter, "PagerDuty failed while holding the routing key")
        texts = {
            "logs": logs.text,
            "chatter": str(incidents.message_ids.mapped("body")),
            "incidents": str(incidents.read()),
            "actions": str(actions.read()),
            "issues": str(self.github.scan_issues),
        }
        for secret in (HOOK_TOKEN, ROUTING_KEY, self.repo.sudo().token):
            for where, text in texts.items():
                with self.subTest(secret=secret[:6], where=where):
                    self.assertNotIn(secret, text)
