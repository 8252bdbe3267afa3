"""The access matrix: public, portal, internal user, Ops User, Ops Manager, system administrator
by every ops model (read/write/create/unlink), the buttons of the views, the webhook route, the
dashboard RPC and the reports; and companies that never see each other's records.

The models and buttons are read from the registry and the views (a new model or button is
covered, or the test says it is missing from the policy); what each group may do is stated
here, explicitly, as the policy the ACL files must implement.
"""

import json
import uuid
from datetime import timedelta

from lxml import etree

from odoo import fields
from odoo.exceptions import AccessError, MissingError, UserError
from odoo.tests import new_test_user, tagged

from ..autopilot.ingest import gate
from ..autopilot.testing import github_payloads as gp
from .common import OpsHttpCase, signed_headers

R, RW, RWC, RU, RWU, RWCU, NONE = "r", "rw", "rwc", "ru", "rwu", "rwcu", ""
OPS = {"r": "read", "w": "write", "c": "create", "u": "unlink"}
#: model -> (Ops User, Ops Manager); public, portal and internal users get nothing; system administrators
#: (the admin is an Ops Manager) get the manager's rights plus the secrets
POLICY = {
    "ops.repository": (R, RWCU),
    "ops.webhook.delivery": (R, RWU),
    "ops.webhook.refusal": (R, R),
    "ops.webhook.refusal.hour": (R, R),
    "ops.workflow.run": (R, RWU),
    "ops.workflow.job": (R, RWU),
    "ops.push": (R, RU),
    "ops.pull.request": (R, RU),
    "ops.change.file": (R, RU),
    "ops.incident": (RW, RWCU),
    "ops.incident.event": (R, R),
    "ops.remediation.action": (R, RWCU),
    "ops.remediation.policy": (R, RWCU),
    "ops.remediation.policy.line": (R, RWCU),
    "ops.health.target": (R, RWCU),
    "ops.health.sample": (R, RU),
    "ops.health.sample.hourly": (R, RU),
    "ops.health.sample.daily": (R, RU),
    "ops.health.silence": (RWC, RWCU),
    "ops.review": (R, RWU),
    "ops.review.finding": (R, RU),
    "ops.review.rule.pack": (R, RWCU),
    "ops.scan.run": (R, RU),
    "ops.scan.finding": (R, RU),
    "ops.scan.suppression": (R, RWCU),
    "ops.license.policy": (R, RWCU),
    "ops.scan.launch.wizard": (NONE, RWCU),
    "ops.scan.suppress.wizard": (NONE, RWCU),
    "ops.migration.dry.run.wizard": (NONE, RWCU),
    "ops.failure.pattern": (R, RWCU),
    "ops.failure.signature": (R, RWU),
    "ops.job.diagnosis": (R, RU),
    "ops.job.diagnosis.correct": (RWCU, RWCU),
    "ops.job.log.paste": (RWCU, RWCU),
    "ops.classifier.model": (R, RWU),
    "ops.route.rule": (R, RWCU),
    "ops.route.decision": (R, RU),
    "ops.deployment": (R, RWU),
    "ops.deployment.status": (R, RU),
    "ops.deployment.commit": (R, RU),
    "ops.deployment.environment": (R, RWCU),
}
PROFILES = ("public", "portal", "internal", "ops user", "ops manager", "system")
#: a user who lacks a button's group but may read the record
BELOW = {
    "ops_autopilot.group_ops_manager": "ops user",
    "ops_autopilot.group_ops_user": "internal",
    "base.group_system": "ops manager",
}
REFUSED = (AccessError, UserError)


def expected(profile, model):
    user, manager = POLICY[model]
    return {"ops user": user, "ops manager": manager, "system": manager}.get(profile, NONE)


@tagged("post_install", "-at_install")
class TestAccessMatrix(OpsHttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.profiles = {
            "public": cls.env.ref("base.public_user"),
            "portal": new_test_user(cls.env, "matrix_portal", groups="base.group_portal"),
            "internal": new_test_user(cls.env, "matrix_internal", groups="base.group_user"),
            "ops user": new_test_user(cls.env, "matrix_user", groups="ops_autopilot.group_ops_user"),
            "ops manager": new_test_user(cls.env, "matrix_manager", groups="ops_autopilot.group_ops_manager"),
            "system": new_test_user(
                cls.env, "matrix_admin", groups="base.group_system,ops_autopilot.group_ops_manager"
            ),
        }
        cls.records = cls.make_records(cls.repo, cls.env.company, secret="it's-a-secret-to-everybody")

    # ------------------------------------------------------------------ data
    @classmethod
    def make_records(cls, repo, company, secret):
        """One record of each main ops model for ``repo``, through the webhook path where there is one."""
        env = cls.env
        run_id = 880000 + repo.id
        payloads = [
            (
                "workflow_run",
                gp.workflow_run_event(repo.full_name, run_id=run_id, status="completed", conclusion="failure"),
            ),
            ("workflow_job", gp.workflow_job_event(repo.full_name, run_id=run_id, conclusion="failure")),
            ("push", gp.push_event(repo.full_name, commits=[{"added": ["a.py"]}])),
            ("pull_request", gp.pull_request_event(repo.full_name, number=repo.id)),
            (
                "deployment_status",
                gp.deployment_status_event(repo.full_name, gp.deployment(repo.full_name, 770000 + repo.id), "success"),
            ),
        ]
        for event, payload in payloads:
            body = json.dumps(payload).encode()
            verdict = gate.evaluate(
                signed_headers(body, event, secret=secret),
                body,
                "application/json",
                env["ops.repository"]._webhook_candidates,
            )
            assert isinstance(verdict, gate.Accepted), verdict
            env["ops.webhook.delivery"]._receive(verdict)
        while env["ops.webhook.delivery"]._cron_process_deliveries():
            pass
        run = env["ops.workflow.run"].search([("repository_id", "=", repo.id), ("github_id", "=", run_id)])
        target = env["ops.health.target"].create(
            {"name": f"target {repo.full_name}", "url": "http://127.0.0.1:9/", "company_id": company.id}
        )
        incident = env["ops.incident"]._raise_incident(
            {
                "dedup_key": f"matrix:{repo.full_name}",
                "title": f"incident {repo.full_name}",
                "repository_id": repo.id,
                "target_id": target.id,
                "company_id": company.id,
            }
        )
        policy = env["ops.remediation.policy"].create({"name": f"policy {repo.full_name}", "company_id": company.id})
        review = env["ops.review"].create({"repository_id": repo.id, "state": "failed"})
        scan_run = env["ops.scan.run"].create({"scan_type": "security", "repository_id": repo.id, "state": "failed"})
        records = {
            "ops.repository": repo,
            "ops.webhook.delivery": env["ops.webhook.delivery"].search([("repository_id", "=", repo.id)], limit=1),
            "ops.workflow.run": run,
            "ops.workflow.job": run.job_ids[:1],
            "ops.push": env["ops.push"].search([("repository_id", "=", repo.id)], limit=1),
            "ops.change.file": env["ops.change.file"].search([("push_id.repository_id", "=", repo.id)], limit=1),
            "ops.pull.request": env["ops.pull.request"].search([("repository_id", "=", repo.id)], limit=1),
            "ops.health.target": target,
            "ops.incident": incident,
            "ops.health.sample": env["ops.health.sample"].create(
                {"target_id": target.id, "company_id": company.id, "checked_at": fields.Datetime.now(), "up": False}
            ),
            "ops.health.silence": env["ops.health.silence"].create(
                {
                    "reason": "deploy",
                    "company_id": company.id,
                    "target_id": target.id,
                    "date_end": fields.Datetime.now() + timedelta(hours=1),
                }
            ),
            "ops.remediation.policy": policy,
            "ops.remediation.action": env["ops.remediation.action"].create(
                {
                    "incident_id": incident.id,
                    "target_id": target.id,
                    "company_id": company.id,
                    "state": "awaiting_approval",
                }
            ),
            "ops.review": review,
            "ops.scan.run": scan_run,
            "ops.scan.finding": env["ops.scan.finding"].create(
                {"repository_id": repo.id, "scan_type": "security", "dedup_key": f"k{repo.id}", "title": "CVE"}
            ),
            "ops.failure.signature": env["ops.failure.signature"].create(
                {"fingerprint": f"fp{repo.id}", "repository_id": repo.id}
            ),
            "ops.job.diagnosis": env["ops.job.diagnosis"].create(
                {"run_id": run.id, "repository_id": repo.id, "category": "test_failure"}
            ),
            "ops.webhook.refusal": env["ops.webhook.refusal"].create(
                {
                    "repository_id": repo.id,
                    "company_id": company.id,
                    "received_at": fields.Datetime.now(),
                    "reason": gate.BAD_SIGNATURE,
                }
            ),
            "ops.webhook.refusal.hour": env["ops.webhook.refusal.hour"].create(
                {
                    "repository_id": repo.id,
                    "company_id": company.id,
                    "hour": fields.Datetime.now(),
                    "reason": gate.BAD_SIGNATURE,
                    "count": 1,
                }
            ),
        }
        deployment = env["ops.deployment"].search([("repository_id", "=", repo.id)], limit=1)
        records.update(
            {
                "ops.deployment": deployment,
                "ops.deployment.environment": deployment.environment_id,
                "ops.deployment.status": deployment.status_ids[:1],
                "ops.deployment.commit": env["ops.deployment.commit"].create(
                    {"deployment_id": deployment.id, "sha": "f" * 40, "message": "Change"}
                ),
            }
        )
        for model, record in records.items():
            assert len(record) == 1, f"no {model} record for {repo.full_name}"
        return records

    def shared_records(self):
        """Records without a company: seed data of the addon, and a classifier."""
        records = {}
        for model in ("ops.failure.pattern", "ops.license.policy", "ops.review.rule.pack", "ops.route.rule"):
            records[model] = self.env[model].search([], limit=1)
        records["ops.classifier.model"] = self.env["ops.classifier.model"].create({"name": "matrix"})
        return {model: record for model, record in records.items() if record}

    # ------------------------------------------------------------------ the policy itself
    def test_the_policy_covers_every_ops_model_and_only_ops_groups_are_granted(self):
        models = {name for name in self.env.registry if name.startswith("ops.") and not self.env[name]._abstract}
        self.assertEqual(set(POLICY), models, "every ops model has its line in the policy, and only those")
        ops_groups = self.env.ref("ops_autopilot.group_ops_user") | self.env.ref("ops_autopilot.group_ops_manager")
        for access in self.env["ir.model.access"].search([("model_id.model", "in", list(models))]):
            with self.subTest(access=access.name):
                self.assertIn(access.group_id, ops_groups, "no global ACL, no ACL for groups outside Ops")

    def test_model_rights_follow_the_policy_for_every_profile(self):
        mismatches = []
        for profile, user in self.profiles.items():
            for model in sorted(POLICY):
                allowed = {OPS[letter] for letter in expected(profile, model)}
                for operation in OPS.values():
                    actual = self.env[model].with_user(user).browse().has_access(operation)
                    if actual != (operation in allowed):
                        mismatches.append(f"{profile} {operation} {model}: {actual}")
        self.assertEqual(mismatches, [])

    def test_records_are_read_written_and_deleted_per_policy(self):
        records = {**self.records, **self.shared_records()}
        for profile, user in self.profiles.items():
            for model, record in records.items():
                rights = expected(profile, model)
                mine = record.with_user(user)
                with self.subTest(profile=profile, model=model):
                    if "r" in rights:
                        self.assertEqual(self.env[model].with_user(user).search([("id", "=", record.id)]), mine)
                        mine.read(["display_name"])
                    else:
                        with self.assertRaises(AccessError):
                            self.env[model].with_user(user).search([("id", "=", record.id)])
                        with self.assertRaises(AccessError):
                            mine.read(["display_name"])
                    if "w" in rights:
                        mine.write({})
                    else:
                        with self.assertRaises(AccessError):
                            mine.write({})
                    self.assertEqual(mine.has_access("unlink"), "u" in rights)

    # ------------------------------------------------------------------ buttons
    def view_buttons(self):
        """``(model, method, groups)`` of every object button of the ops views."""
        buttons = set()
        views = self.env["ir.ui.view"].search([("model", "like", "ops.%"), ("type", "in", ("form", "list", "kanban"))])
        for view in views.filtered(lambda v: v.mode == "primary"):
            arch = view.get_combined_arch()  # with its inheriting views, groups attributes kept
            for node in etree.fromstring(arch.encode()).xpath("//button[@type='object'][not(ancestor::field)]"):
                buttons.add((view.model, node.get("name"), node.get("groups") or ""))
        return sorted(buttons)

    def test_buttons_refuse_users_outside_their_group(self):
        records = {**self.records, **self.shared_records()}
        guarded = [(m, name, groups) for m, name, groups in self.view_buttons() if groups]
        self.assertGreater(len(guarded), 10)
        tried = set()
        for model, method, groups in guarded:
            record = records.get(model)
            if not record:
                continue
            profile = BELOW[groups.split(",")[0]]
            user = self.profiles[profile]
            with self.subTest(button=f"{model}.{method}", profile=profile), self.env.cr.savepoint() as savepoint:
                try:
                    result = getattr(record.with_user(user), method)()
                except REFUSED:
                    result = None
                else:  # a button that only opens a wizard: the wizard is what refuses
                    wizard = isinstance(result, dict) and result.get("target") == "new" and result.get("res_model")
                    self.assertTrue(wizard, f"{profile} could press {model}.{method}")
                    self.assertFalse(self.env[wizard].with_user(user).browse().has_access("create"))
                savepoint.rollback()
            tried.add(model)
        for model in ("ops.repository", "ops.webhook.delivery", "ops.incident", "ops.remediation.action"):
            self.assertIn(model, tried)

    def test_buttons_open_for_ops_users_fail_only_with_a_message(self):
        """Buttons without a group, pressed by an Ops User: done, or refused with a message; never a crash."""
        records = {**self.records, **self.shared_records()}
        pressed = {}
        for model, method, groups in self.view_buttons():
            record = records.get(model)
            if groups or not record:
                continue
            with self.subTest(button=f"{model}.{method}"), self.env.cr.savepoint() as savepoint:
                try:
                    getattr(record.with_user(self.profiles["ops user"]), method)()
                    pressed[f"{model}.{method}"] = "done"
                except (*REFUSED, MissingError) as refusal:
                    pressed[f"{model}.{method}"] = type(refusal).__name__
                savepoint.rollback()
        self.assertGreater(len(pressed), 10)
        self.assertEqual(pressed.get("ops.health.target.action_check_now"), "done", "Ops users may check a target")
        self.assertEqual(pressed.get("ops.remediation.policy.action_load_seed_actions"), "AccessError")

    # ------------------------------------------------------------------ route, dashboard, reports
    def test_the_webhook_route_trusts_signatures_not_sessions(self):
        body = json.dumps(self.run_payload()).encode()
        for login in (None, "matrix_internal", "matrix_admin"):
            with self.subTest(login=login):
                if login:
                    self.authenticate(login, login)
                headers = signed_headers(body, "workflow_run", secret=None)
                self.assertEqual(self.post(body, headers).status_code, 401, "a session is no signature")

    def test_dashboard_rpc_and_reports_per_profile(self):
        names = {record.display_name for record in self.records.values() if record._name == "ops.repository"}
        for profile, user in self.profiles.items():
            rights = expected(profile, "ops.workflow.run")
            with self.subTest(profile=profile):
                data = self.env["ops.dashboard"].with_user(user).get_dashboard_data({"period": "7d"})
                shown = {r["name"] for r in data["options"]["repositories"]}
                if "r" in rights:
                    self.assertTrue(names <= shown)
                else:
                    self.assertFalse(shown, "outsiders see no repository")
                    self.assertTrue(all(tile["no_data"] for tile in data["tiles"]))
                Report = self.env["ir.actions.report"].with_user(user)
                if "r" in rights:
                    html, _kind = Report._render_qweb_html(
                        "ops_autopilot.action_report_ops_health", [], data={"filters": {"period": "7d"}}
                    )
                    self.assertIn(b"o_ops_report_kpis", html)
                else:
                    with self.assertRaises(AccessError):
                        Report._render_qweb_html(
                            "ops_autopilot.action_report_ops_health", [], data={"filters": {"period": "7d"}}
                        )
        menu = self.env.ref("ops_autopilot.menu_ops_autopilot_root")
        for profile, user in self.profiles.items():
            try:
                visible = menu.id in self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()
            except AccessError:  # public and portal users read no backend menu at all
                visible = False
            self.assertEqual(visible, profile in ("ops user", "ops manager", "system"), profile)

    def test_report_route_over_http(self):
        path = f"/report/html/ops_autopilot.report_license_compliance/{self.records['ops.scan.run'].id}"
        self.authenticate("matrix_internal", "matrix_internal")
        self.assertNotEqual(self.url_open(path).status_code, 200)
        self.authenticate("matrix_user", "matrix_user")
        response = self.url_open(path)
        self.assertNotEqual(response.status_code, 500, "a scan that is not a finished license scan is refused")

    def test_dashboard_rpc_over_http(self):
        """The dashboard's JSON-RPC: no session, nothing; an employee outside Ops, no data; an Ops User, data."""

        def call():
            payload = {"jsonrpc": "2.0", "method": "call", "id": 1}
            payload["params"] = {
                "model": "ops.dashboard",
                "method": "get_dashboard_data",
                "args": [{"period": "7d"}],
                "kwargs": {},
            }
            return self.url_open(
                "/web/dataset/call_kw/ops.dashboard/get_dashboard_data",
                json.dumps(payload),
                headers={"Content-Type": "application/json"},
            ).json()

        self.assertIn("error", call(), "no session, no dashboard")
        self.authenticate("matrix_internal", "matrix_internal")
        blind = call()["result"]
        self.assertTrue(all(tile["no_data"] for tile in blind["tiles"]))
        self.assertFalse(blind["options"]["repositories"])
        self.authenticate("matrix_user", "matrix_user")
        seen = call()["result"]
        self.assertIn("acme/erp", [repo["name"] for repo in seen["options"]["repositories"]])

    # ------------------------------------------------------------------ companies
    def test_every_company_owned_model_has_a_company_rule(self):
        for model in sorted(POLICY):
            field = self.env[model]._fields.get("company_id")
            if not field or not field.store:
                continue
            rules = self.env["ir.rule"].search([("model_id.model", "=", model), ("groups", "=", False)])
            with self.subTest(model=model):
                self.assertTrue(
                    any("company_ids" in (rule.domain_force or "") for rule in rules),
                    f"{model} has a company_id but no multi-company rule",
                )

    def test_company_a_never_sees_company_b(self):
        company_b = self.env["res.company"].create({"name": "Matrix B"})
        repo_b = self.env["ops.repository"].create(
            {"full_name": "bravo/erp", "company_id": company_b.id, "webhook_secret": "bravo-secret"}
        )
        theirs = self.make_records(repo_b, company_b, secret="bravo-secret")
        for profile in ("ops user", "ops manager", "system"):
            user = self.profiles[profile]
            for model, record in theirs.items():
                with self.subTest(profile=profile, model=model):
                    self.assertFalse(self.env[model].with_user(user).search([("id", "=", record.id)]))
                    with self.assertRaises(AccessError):
                        record.with_user(user).read(["display_name"])
            data = self.env["ops.dashboard"].with_user(user).get_dashboard_data({"period": "7d"})
            self.assertNotIn("bravo/erp", json.dumps(data, default=str), profile)
            forced = self.env["ops.dashboard"].with_user(user).get_dashboard_data({"repository_id": repo_b.id})
            self.assertFalse(forced["filters"]["repository_id"])

        html, _kind = (
            self.env["ir.actions.report"]
            .with_user(self.profiles["ops user"])
            ._render_qweb_html(
                "ops_autopilot.action_report_ops_health",
                [],
                data={"filters": {"period": "7d", "repository_id": repo_b.id}},
            )
        )
        self.assertNotIn(b"bravo/erp", html, "nor can the report be forced onto B's repository")
        # B's own user sees B and not A
        user_b = new_test_user(
            self.env,
            "matrix_bravo",
            groups="ops_autopilot.group_ops_manager",
            company_id=company_b.id,
            company_ids=[company_b.id],
        )
        for model, record in self.records.items():
            with self.subTest(model=model, company="B"):
                self.assertFalse(self.env[model].with_user(user_b).search([("id", "=", record.id)]))
                self.assertEqual(
                    self.env[model].with_user(user_b).search([("id", "=", theirs[model].id)]), theirs[model]
                )
        # a delivery for B's repository signed with A's secret is refused
        body = json.dumps(gp.workflow_run_event("bravo/erp", run_id=99)).encode()
        self.assertEqual(self.post(body, signed_headers(body, "workflow_run", guid=str(uuid.uuid4()))).status_code, 401)
