"""Payload text (branch names, commit messages, PR titles, step and workflow names, log text)
carrying HTML/JS is stored as sent and rendered escaped everywhere: views, computed HTML,
chatter, the dashboard RPC, the QWeb reports and the weekly email."""

import json
from datetime import timedelta

from lxml import etree
from markupsafe import Markup

from odoo import fields
from odoo.tests import new_test_user, tagged
from odoo.tools.misc import file_open

from ..autopilot.ingest import gate
from ..autopilot.testing import github_payloads as gp
from .common import OpsTransactionCase, signed_headers

XSS = "<script>alert('ops')</script><img src=x onerror=alert(1)>"
RAW_MARKERS = ("<script>alert", "<img src=x")  # the payload's own tags, unescaped
#: Html fields whose value is computed by an escaping QWeb template (t-out / t-esc of plain strings)
ESCAPING_HTML_COMPUTES = {
    ("ops.workflow.job", "steps_html"),
    ("ops.classifier.model", "metrics_html"),
    # diagnosis cards (template ops_job_diagnosis_cards: every log character through t-out)
    ("ops.job.diagnosis", "excerpt_html"),
    ("ops.workflow.job", "diagnosis_html"),
    ("ops.workflow.run", "ci_diagnosis_html"),
    ("ops.job.log.paste", "result_html"),
}


@tagged("post_install", "-at_install")
class TestPayloadTextIsRenderedEscaped(OpsTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        run = gp.workflow_run_event(
            "acme/erp", run_id=6660001, status="completed", conclusion="failure", name=XSS, branch=XSS
        )
        run["workflow_run"]["display_title"] = XSS
        job = gp.workflow_job_event(
            "acme/erp", run_id=6660001, name=XSS, branch=XSS, steps=[gp.step(1, XSS, conclusion="failure")]
        )
        push = gp.push_event("acme/erp", commits=[{"message": XSS, "added": [XSS]}])
        pull = gp.pull_request_event("acme/erp", number=66, title=XSS, head_ref=XSS)
        for event, payload in (("workflow_run", run), ("workflow_job", job), ("push", push), ("pull_request", pull)):
            body = json.dumps(payload).encode()
            verdict = gate.evaluate(
                signed_headers(body, event), body, "application/json", cls.env["ops.repository"]._webhook_candidates
            )
            cls.Delivery._receive(verdict)
        while cls.Delivery._cron_process_deliveries():
            pass
        cls.run_record = cls.Run.search([("github_id", "=", 6660001)])
        cls.job_record = cls.run_record.job_ids
        cls.incident = cls.env["ops.incident"]._raise_incident(
            {
                "dedup_key": "ci:acme/erp:xss",
                "title": f"CI failure in {XSS}",
                "source": "ci",
                "severity": "high",
                "description": f"log excerpt:\n{XSS}",
                "repository_id": cls.repo.id,
                "run_id": cls.run_record.id,
            }
        )
        cls.incident._note(f"Log says {XSS}")

    def assert_escaped(self, html, where):
        html = str(html)
        for marker in RAW_MARKERS:
            self.assertNotIn(marker, html, f"{where}: raw HTML from a payload")
        self.assertIn("&lt;script&gt;", html, f"{where}: the payload text is shown, escaped")

    def test_payload_text_is_stored_as_sent(self):
        """Escaping happens when rendering, once: stored values are the raw text."""
        self.assertEqual(self.run_record.head_branch, XSS)
        self.assertEqual(self.job_record.name, XSS)
        push = self.env["ops.push"].search([("repository_id", "=", self.repo.id)])
        self.assertEqual(push.head_commit_message, XSS)
        self.assertEqual(push.file_ids.filename, XSS)
        pull = self.env["ops.pull.request"].search([("number", "=", 66)])
        self.assertEqual((pull.title, pull.head_ref), (XSS, XSS))

    def test_views_render_payload_fields_as_text(self):
        """Form, list and kanban views show no payload field as HTML and use no raw QWeb output."""
        views = self.env["ir.ui.view"].search(
            [("model", "like", "ops.%"), ("mode", "=", "primary"), ("type", "in", ("form", "list", "kanban", "search"))]
        )
        self.assertGreater(len(views), 20)
        for view in views:
            Model = self.env[view.model]
            model = view.model
            arch = Model.get_views([(view.id, view.type)])["views"][view.type]["arch"]
            tree = etree.fromstring(arch.encode())
            with self.subTest(view=view.xml_id or view.name):
                self.assertFalse(tree.xpath("//*[@t-raw]"), "t-raw renders unescaped")
                for node in tree.xpath("//field[@name][not(ancestor::field)]"):
                    field = Model._fields.get(node.get("name"))
                    if field is None:
                        continue
                    html_widget = node.get("widget") in ("html", "html_field")
                    if field.type == "html" or html_widget:
                        self.assertTrue(
                            (model, field.name) in ESCAPING_HTML_COMPUTES or (field.type == "html" and field.sanitize),
                            f"{model}.{field.name} is rendered as HTML: escape it or sanitize it",
                        )

    def test_computed_html_escapes_payload_text(self):
        self.assert_escaped(self.job_record.steps_html, "job steps")
        for model, name in ESCAPING_HTML_COMPUTES:
            with self.subTest(field=f"{model}.{name}"):
                for record in self.env[model].search([]):
                    for marker in RAW_MARKERS:
                        self.assertNotIn(marker, str(record[name] or ""))

    def test_chatter_shows_payload_text_escaped(self):
        messages = self.env["mail.message"].search([("model", "=", "ops.incident"), ("res_id", "=", self.incident.id)])
        note = messages.filtered(lambda m: "Log says" in (m.body or ""))
        self.assertTrue(note)
        self.assert_escaped(note.body, "incident note")
        for message in messages:
            for marker in RAW_MARKERS:
                self.assertNotIn(marker, str(message.body or ""), "chatter")

    def test_dashboard_rpc_hands_plain_text_to_the_escaping_client(self):
        for hours in (1, 2, 3):
            self.Run.create(
                {
                    "repository_id": self.repo.id,
                    "github_id": 6660100 + hours,
                    "name": XSS,
                    "status": "completed",
                    "conclusion": "failure",
                    "outcome": "failure",
                    "started_at": fields.Datetime.now() - timedelta(hours=hours),
                    "finished_at": fields.Datetime.now() - timedelta(hours=hours, minutes=-5),
                    "duration": 300,
                }
            )
        data = self.env["ops.dashboard"].get_dashboard_data({"period": "7d", "repository_id": self.repo.id})
        strings = []

        def walk(value):
            if isinstance(value, dict):
                for item in value.values():
                    walk(item)
            elif isinstance(value, list | tuple):
                for item in value:
                    walk(item)
            elif isinstance(value, str):
                self.assertNotIsInstance(value, Markup, "the RPC never hands out markup")
                strings.append(value)

        walk(data)
        self.assertIn(XSS, strings, "names reach the client as plain text (it escapes them)")
        # the client: OWL templates escape (t-esc/t-out of strings); no raw output, no markup() in the code
        for path in (
            "ops_autopilot/static/src/components/ops_dashboard/ops_dashboard.xml",
            "ops_autopilot/static/src/components/ops_dashboard/ops_dashboard.js",
            "ops_autopilot/static/src/views/ops_live_views.js",
        ):
            with file_open(path) as source:
                text = source.read()
            for danger in ("t-raw", "markup(", "innerHTML", "outerHTML", "insertAdjacentHTML"):
                self.assertNotIn(danger, text, f"{path} uses {danger}")

    def test_license_report_escapes_package_names(self):
        run = (
            self.env["ops.scan.run"]
            .sudo()
            .create(
                {
                    "scan_type": "license_compliance",
                    "repository_id": self.repo.id,
                    "state": "done",
                    "ref": XSS,
                    "stats": {
                        "period": "2026-11",
                        "total": 1,
                        "counts": {"denied": 1},
                        "by_license": {XSS: 1},
                        "packages": [["pypi", XSS, "1.0", XSS, "denied"]],
                    },
                }
            )
        )
        html, _kind = self.env["ir.actions.report"]._render_qweb_html(
            "ops_autopilot.action_report_license_compliance_html", run.ids
        )
        self.assert_escaped(html.decode(), "license report")

    def test_weekly_email_and_its_report_escape_workflow_names(self):
        for hours in (1, 2, 3, 4, 5):
            self.Run.create(
                {
                    "repository_id": self.repo.id,
                    "github_id": 6660300 + hours,
                    "name": XSS,
                    "status": "completed",
                    "conclusion": "failure",
                    "outcome": "failure",
                    "started_at": fields.Datetime.now() - timedelta(hours=hours),
                    "finished_at": fields.Datetime.now() - timedelta(hours=hours, minutes=-20),
                    "duration": 1200,
                }
            )
        reader = new_test_user(self.env, "xss_reader", groups="ops_autopilot.group_ops_user", email="r@example.com")
        reader.ops_report_subscribed = True
        self.assertEqual(self.env["ops.health.report"]._cron_send_weekly_report(), 1)
        mail = self.env["mail.mail"].search([("recipient_ids", "in", reader.partner_id.ids)])
        self.assertEqual(len(mail), 1)
        self.assert_escaped(mail.body_html, "weekly email")
        # the attached health report (HTML when tests run: no wkhtmltopdf) lists the workflows by name
        [report] = mail.attachment_ids.filtered(lambda a: a.mimetype == "text/html")
        self.assert_escaped(report.raw.decode(), "attached health report")
