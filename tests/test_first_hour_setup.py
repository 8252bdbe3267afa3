"""A newcomer's first hour: where the demo admin lands, when demo targets are first checked,
the README's hand-made webhook, and the PDF report."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from unittest.mock import patch

from odoo import fields
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged

ROOT = Path(__file__).resolve().parent.parent
REPORT_XMLID = "ops_autopilot.action_report_ops_health"
DEMO_REPOSITORY = "acme/odoo-erp"
DEMO_SECRET = "demo-webhook-secret"
DEMO_URL = "http://localhost:8069"


def shell_examples(path):
    """The shell code blocks of a README (reStructuredText) or a Markdown page, in order."""
    text = path.read_text()
    if path.suffix == ".rst":
        blocks = re.findall(r"^\.\. code-block:: shell\n\n((?:(?:   .*)?\n)+)", text, re.MULTILINE)
        return ["\n".join(line[3:] for line in block.splitlines()) for block in blocks]
    return re.findall(r"^```(?:sh|shell)\n(.*?)^```", text, re.MULTILINE | re.DOTALL)


def webhook_example(path):
    examples = [block for block in shell_examples(path) if "/ops/github/webhook" in block and "curl" in block]
    if not examples:
        raise AssertionError(f"{path.name} has no shell example that posts to /ops/github/webhook")
    return examples[0]


@tagged("post_install", "-at_install")
class TestFirstHourDemo(TransactionCase):
    """What a newcomer meets right after ``make demo``."""

    def setUp(self):
        super().setUp()
        if not self.env.ref("ops_autopilot.ops_repository_erp_demo", raise_if_not_found=False):
            self.skipTest("installed without demo data")

    def test_demo_admin_lands_on_the_dashboard(self):
        dashboard = self.env.ref("ops_autopilot.ops_dashboard_action")
        self.assertEqual(self.env.ref("base.user_admin").action_id.id, dashboard.id, "the admin's home action")

    def test_demo_targets_are_checked_at_their_interval_from_the_start(self):
        now = fields.Datetime.now()
        for xmlid in ("web", "payments", "host", "native"):
            target = self.env.ref(f"ops_autopilot.ops_health_target_{xmlid}_demo")
            with self.subTest(target.name):
                interval = timedelta(minutes=target.interval_minutes)
                self.assertTrue(target.next_check_at, "a target without a next check is never picked")
                # the demo was installed before this test ran: its next check is at most one interval away
                self.assertLessEqual(target.next_check_at, now + interval)
                self.assertLessEqual(target.next_check_at, target.last_checked_at + interval)


@tagged("post_install", "-at_install")
class TestFirstHourLogin(HttpCase):
    def test_an_ops_user_whose_home_is_the_dashboard_gets_it_at_login(self):
        """The web client opens ``home_action_id`` of the session when the URL names no action."""
        dashboard = self.env.ref("ops_autopilot.ops_dashboard_action")
        user = new_test_user(self.env, "ops_first_hour", groups="ops_autopilot.group_ops_user")
        user.action_id = dashboard.id
        self.authenticate("ops_first_hour", "ops_first_hour")
        info = self.make_jsonrpc_request("/web/session/get_session_info")
        self.assertEqual(info["home_action_id"], dashboard.id)


@tagged("post_install", "-at_install")
class TestReadmeWebhookExample(HttpCase):
    """The README's signed delivery by hand: only python3 and curl, and Odoo accepts it."""

    def run_example(self, block, with_cli=False):
        """Run ``block`` with bash on a PATH that holds python3 and curl only (and the addon's
        ``ops-autopilot`` command when ``with_cli``), against this test server."""
        self.assertIn(DEMO_URL, block, "the example speaks to the demo server")
        script = block.replace(DEMO_URL, self.base_url())
        with tempfile.TemporaryDirectory() as tmp:
            bin_dir = Path(tmp, "bin")
            bin_dir.mkdir()
            os.symlink(sys.executable, bin_dir / "python3")
            os.symlink(shutil.which("curl"), bin_dir / "curl")
            if with_cli:  # what `pip install` of the addon puts on the PATH
                cli = bin_dir / "ops-autopilot"
                cli.write_text(f'#!/bin/sh\nPYTHONPATH="{ROOT}" exec python3 -m autopilot "$@"\n')
                cli.chmod(0o755)
            env = {"PATH": str(bin_dir), "HOME": tmp, "LANG": "C.UTF-8"}
            return subprocess.run(
                [shutil.which("bash"), "-c", script],
                cwd=tmp,
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )

    def setUp(self):
        super().setUp()
        repo = self.env["ops.repository"].search([("full_name", "=", DEMO_REPOSITORY)])
        if not repo:
            repo = self.env["ops.repository"].create({"full_name": DEMO_REPOSITORY})
        repo.sudo().write({"webhook_secret": DEMO_SECRET, "hook_verified_at": False})
        self.env.flush_all()  # before the server's own cursor work, not over it
        self.repo = repo

    def check(self, path, with_cli=False):
        self.assertFalse(self.repo.hook_verified_at)
        result = self.run_example(webhook_example(path), with_cli=with_cli)
        self.assertNotIn("command not found", result.stderr, f"{path.name} needs a program it does not name")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stdout, r'"status": ?"pong"', result.stdout + result.stderr)
        self.env.invalidate_all()
        self.assertTrue(self.repo.hook_verified_at, "the signed ping verified the demo repository's hook")

    def test_readme_example_uses_python_and_curl_and_is_accepted(self):
        self.check(ROOT / "README.rst")

    def test_command_line_reference_example_is_accepted(self):
        self.check(ROOT / "docs" / "cli.md", with_cli=True)


@tagged("post_install", "-at_install")
class TestHealthReportPdf(HttpCase):
    """wkhtmltopdf fetches the report's assets over HTTP: from this test server (an HttpCase)."""

    def test_weekly_report_renders_as_a_real_pdf(self):
        state = self.env["ir.actions.report"].get_wkhtmltopdf_state()
        if state not in ("ok", "upgrade"):
            self.skipTest(f"wkhtmltopdf is not usable here (state {state!r}): `make test` installs it as root")
        self.env["ir.config_parameter"].sudo().set_param("report.url", self.base_url())
        content, kind = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf(REPORT_XMLID, data={"filters": {"period": "7d"}})
        )
        self.assertEqual(kind, "pdf")
        self.assertTrue(content.startswith(b"%PDF-"), content[:80])
        self.assertGreater(len(content), 5000)

    def test_without_wkhtmltopdf_the_print_button_opens_the_html_report_with_a_note(self):
        Report = type(self.env["ir.actions.report"])
        with patch.object(Report, "get_wkhtmltopdf_state", lambda self: "install"):
            action = self.env["ops.health.report"].action_print({"period": "7d"}, "qweb-pdf")
            self.assertEqual(action["report_type"], "qweb-html", "a PDF request would answer 400")
            html = self.env["ir.actions.report"]._render_qweb_html(
                REPORT_XMLID, [], data={"filters": {"period": "7d"}}
            )[0]
        self.assertIn(b"wkhtmltopdf", html)
        self.assertIn(b"o_ops_pdf_unavailable", html)

    def test_with_wkhtmltopdf_the_print_button_asks_for_the_pdf_and_no_note_is_shown(self):
        Report = type(self.env["ir.actions.report"])
        with patch.object(Report, "get_wkhtmltopdf_state", lambda self: "ok"):
            action = self.env["ops.health.report"].action_print({"period": "7d"}, "qweb-pdf")
            self.assertEqual(action["report_type"], "qweb-pdf")
            html = self.env["ir.actions.report"]._render_qweb_html(
                REPORT_XMLID, [], data={"filters": {"period": "7d"}}
            )[0]
        self.assertNotIn(b"o_ops_pdf_unavailable", html)
