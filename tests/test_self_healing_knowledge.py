"""The knowledge of self-healing: failure patterns, reviewed diagnoses, the classifier they retrain."""

import base64

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged

from ..autopilot.selfheal import classifier, rules
from ..autopilot.selfheal.router import SEED_ROUTES
from .common import OpsTransactionCase

CUSTOM_LOG = (
    "##[group]Run ./check-license.sh\n##[endgroup]\n##[error]Invalid configuration: ACME-LICENSE-EXPIRED "
    "(acme.toml: license_key)\n"
)


@tagged("post_install", "-at_install")
class TestSelfHealingKnowledge(OpsTransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Pattern = cls.env["ops.failure.pattern"]
        cls.Diagnosis = cls.env["ops.job.diagnosis"]
        cls.Model = cls.env["ops.classifier.model"]
        cls.ops_user = new_test_user(cls.env, "ops_user_sh", groups="ops_autopilot.group_ops_user")
        cls.ops_manager = new_test_user(cls.env, "ops_manager_sh", groups="ops_autopilot.group_ops_manager")
        cls.ci_run = cls.Run.create({"repository_id": cls.repo.id, "github_id": 424242, "name": "CI", "run_attempt": 1})

    def _diagnosis(self, category="network_timeout", excerpt="curl: (28) Operation timed out after 30001 ms"):
        return self.Diagnosis.sudo().create(
            {
                "run_id": self.ci_run.id,
                "repository_id": self.repo.id,
                "job_name": "test",
                "category": category,
                "confidence": 0.6,
                "excerpt": excerpt,
            }
        )

    def test_the_knowledge_base_and_routing_table_are_seeded(self):
        self.assertEqual(self.Pattern.search_count([("seeded", "=", True)]), len(rules.SEED_RULES))
        self.assertEqual(self.env["ops.route.rule"].search_count([]), len(SEED_ROUTES))
        engine_rules = self.Pattern._engine_rules()
        self.assertEqual({r.name for r in engine_rules}, {r.name for r in rules.SEED_RULES})
        self.assertEqual(self.Pattern._seed_from_engine(), self.Pattern, "seeding twice adds nothing")

    def test_pattern_regex_is_validated(self):
        base = {"name": "custom", "category": "unknown", "suggested_fix": "x"}
        for regex in ("(a+)+$", "([unclosed", "x*"):
            with self.subTest(regex=regex), self.assertRaises(ValidationError):
                self.Pattern.create({**base, "regex": regex})
        with self.assertRaises(ValidationError):
            self.Pattern.create({**base, "regex": r"\bboom\b", "example": "no match here"})
        pattern = self.Pattern.create({**base, "regex": r"\bboom\b", "example": "it went boom"})
        with self.assertRaises(ValidationError):
            pattern.write({"regex": "(x+x+)+y"})

    def test_ops_users_read_patterns_managers_edit_them(self):
        pattern = self.Pattern.search([], limit=1)
        as_user = pattern.with_user(self.ops_user)
        self.assertTrue(as_user.name)
        with self.assertRaises(AccessError):
            as_user.write({"suggested_fix": "nothing"})
        with self.assertRaises(AccessError):
            self.Pattern.with_user(self.ops_user).create(
                {"name": "mine", "regex": "mine", "category": "unknown", "suggested_fix": "x"}
            )
        pattern.with_user(self.ops_manager).write({"suggested_fix": "Better advice"})
        self.assertEqual(pattern.suggested_fix, "Better advice")
        signature = self.env["ops.failure.signature"].create(
            {"repository_id": self.repo.id, "fingerprint": "feedbeef00112233", "category": "test_failure"}
        )
        with self.assertRaises(AccessError):
            signature.with_user(self.ops_user).action_quarantine()
        signature.with_user(self.ops_manager).action_quarantine()
        self.assertEqual(signature.quarantine_user_id, self.ops_manager)

    def test_a_new_pattern_is_retryable_as_its_category_unless_told(self):
        Pattern = self.Pattern.with_user(self.ops_manager)
        base = {"regex": r"\bflux capacitor\b", "suggested_fix": "x"}
        transient = Pattern.create({**base, "name": "flux-timeout", "category": "network_timeout"})
        self.assertTrue(transient.retryable)
        self.assertFalse(Pattern.create({**base, "name": "flux-config", "category": "configuration_error"}).retryable)
        told = Pattern.create({**base, "name": "flux-quota", "category": "resource_exhaustion", "retryable": False})
        self.assertFalse(told.retryable)
        self.assertFalse(
            self.Pattern.search([("name", "=", "quota-exhausted")]).retryable, "the seed's own flag is kept"
        )

    def test_a_managers_pattern_decides_diagnoses_and_counts_its_hits(self):
        self.Pattern.with_user(self.ops_manager).create(
            {
                "name": "acme-licence",
                "regex": r"ACME-LICENSE-EXPIRED",
                "category": "configuration_error",
                "suggested_fix": "Renew the ACME licence key in the repository secrets.",
                "priority": 95,
                "severity": "high",
            }
        )
        self.repo.sudo().token = False
        self.env["ops.workflow.job"].create(
            {
                "repository_id": self.repo.id,
                "run_id": self.ci_run.id,
                "github_id": 99,
                "name": "licence",
                "status": "completed",
                "conclusion": "failure",
                "outcome": "failure",
                "output_summary": CUSTOM_LOG,
            }
        )
        self.ci_run.write({"status": "completed", "conclusion": "failure", "outcome": "failure", "ci_state": "pending"})
        self.Run._cron_ci_diagnose()
        diagnosis = self.ci_run.diagnosis_ids
        self.assertEqual((diagnosis.category, diagnosis.rule_name), ("configuration_error", "acme-licence"))
        self.assertIn("Renew the ACME licence", diagnosis.suggested_fix)
        self.assertEqual(self.Pattern.search([("name", "=", "acme-licence")]).hit_count, 1)
        self.assertEqual(diagnosis.incident_id.severity, "high", "the pattern's severity goes to the incident")

    def test_reviews_become_training_data_and_retraining_uses_them(self):
        confirmed = self._diagnosis()
        corrected = self._diagnosis(category="unknown", excerpt="Error: ENOSPC: no space left on device, write")
        confirmed.with_user(self.ops_user).action_confirm()
        wizard = (
            self.env["ops.job.diagnosis.correct"]
            .with_user(self.ops_user)
            .create({"diagnosis_id": corrected.id, "category": "resource_exhaustion"})
        )
        wizard.action_apply()
        self.assertEqual((confirmed.feedback_state, confirmed.confirmed_category), ("confirmed", "network_timeout"))
        self.assertEqual((corrected.feedback_state, corrected.confirmed_category), ("corrected", "resource_exhaustion"))
        self.assertEqual(corrected.feedback_user_id, self.ops_user)
        examples = self.Diagnosis._training_examples()
        self.assertIn((corrected.excerpt, "resource_exhaustion"), examples)

        # "Retrain now" only queues the work; the retraining cron does it, as the scheduler runs it
        with self.assertRaises(UserError):
            self.Model.with_user(self.ops_user).action_retrain()
        action = self.Model.with_user(self.ops_manager).action_retrain()
        self.assertEqual(action["tag"], "display_notification")
        self.assertFalse(self.Model.search([]), "no training inside the request")
        cron = self.env.ref("ops_autopilot.ir_cron_retrain_classifier")
        self.assertTrue(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]))
        cron.method_direct_trigger()
        model = self.Model.search([])
        self.assertEqual(len(model), 1)
        self.assertEqual(model.feedback_size, 2)
        self.assertEqual(model.example_count, model.corpus_size + 2)
        self.assertGreater(model.accuracy, 0.5)
        self.assertIn("network_timeout", model.metrics)
        self.assertIn("<table", model.metrics_html)
        self.assertIn("network timeout", model.metrics_html)
        current = self.Model._current()
        self.assertIsNotNone(current)
        self.assertIs(self.Model._current(), current, "the loaded model is cached")
        self.assertEqual(current.n_examples, model.example_count)
        self.assertFalse(self.Model._cron_retrain(), "nothing new reviewed: no retraining")

        with self.assertRaises(AccessError):
            confirmed.with_user(self.ops_user).write({"category": "unknown"})

    def test_the_newest_stored_model_diagnoses_at_once(self):
        """A model saved in the database decides the very next diagnosis (no restart, no cache to clear)."""
        examples = [
            ("##[error]Widget frobnication collapsed in stage one", "permission_denied"),
            ("##[error]Widget frobnication collapsed during the final stage", "permission_denied"),
            ("##[error]Frobnication of the widget collapsed again", "permission_denied"),
            ("##[error]Gadget calibration drifted beyond tolerance", "syntax_error"),
            ("##[error]Gadget calibration drifted while warming up", "syntax_error"),
            ("##[error]Calibration of the gadget drifted overnight", "syntax_error"),
        ]
        trained = classifier.train(examples, metrics=False, rules=[])
        self.Model.sudo().create(
            {
                "name": "two-category model",
                "model_data": base64.b64encode(trained.to_bytes()),
                "trained_at": fields.Datetime.now(),
            }
        )
        self.assertEqual(self.Model._current().classes, ["permission_denied", "syntax_error"])
        self.repo.sudo().token = False
        self.env["ops.workflow.job"].create(
            {
                "repository_id": self.repo.id,
                "run_id": self.ci_run.id,
                "github_id": 98,
                "name": "widgets",
                "status": "completed",
                "conclusion": "failure",
                "outcome": "failure",
                "output_summary": "##[error]Widget frobnication collapsed in stage three",
            }
        )
        self.ci_run.write({"status": "completed", "conclusion": "failure", "outcome": "failure", "ci_state": "pending"})
        self.Run._cron_ci_diagnose()
        diagnosis = self.ci_run.diagnosis_ids
        self.assertEqual((diagnosis.category, diagnosis.source), ("permission_denied", "model"))
        self.assertFalse(diagnosis.rule_name)

    def test_diagnosis_report_downloads_as_json(self):
        diagnosis = self._diagnosis()
        action = diagnosis.action_download_report()
        self.assertIn(f"/web/content/ops.job.diagnosis/{diagnosis.id}/report_file/", action["url"])
        self.assertTrue(diagnosis.report_file)
