"""Auto-fix pull requests during a change freeze: the review's fix and the CI fix wait, and are opened after."""

from datetime import timedelta

from odoo import fields
from odoo.tests import new_test_user, tagged

from . import test_review_ci_fix  # its test class is not imported here, so it does not run twice
from .review_common import FILE, FIXED, GOOD_PATCH, HEAD_BRANCH, REPO, ReviewCase, answer, finding


@tagged("post_install", "-at_install")
class TestFreezeReview(ReviewCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Window = cls.env["ops.freeze.window"]
        cls.Hold = cls.env["ops.freeze.hold"]
        cls.manager = new_test_user(cls.env, "freeze_review_manager", groups="ops_autopilot.group_ops_manager")

    def setUp(self):
        super().setUp()
        self.Window.search([]).write({"active": False})
        now = fields.Datetime.now()
        self.window = self.Window.create(
            {
                "name": "Quarter close",
                "kind": "once",
                "date_start": now - timedelta(hours=1),
                "date_end": now + timedelta(hours=3),
                "repository_ids": [(6, 0, self.repo.ids)],
            }
        )

    failure = test_review_ci_fix.TestReviewCiFix.failure

    def fix_pulls(self):
        return [p for (repo, _n), p in self.github.pulls.items() if repo == REPO and p["head_ref"] != HEAD_BRANCH]

    def test_the_review_auto_fix_is_planned_held_and_opened_after_the_freeze(self):
        self.set_params(review_autofix_enabled=True)
        pull, _head = self.open_pr()
        self.claude.push(answer(finding(16, 0.9, patch=GOOD_PATCH)))
        self.run_reviews()
        review = self.reviews(pull)
        self.assertEqual(review.state, "done", review.error)
        self.assertEqual(review.autofix_state, "held")
        self.assertIn("Quarter close", review.autofix_reason)
        self.assertEqual(self.fix_pulls(), [], "no fix PR during the freeze")
        hold = self.Hold.search([("res_model", "=", "ops.review"), ("res_id", "=", review.id)])
        self.assertEqual((hold.kind, hold.state), ("review_fix", "held"))

        self.assertEqual(self.Hold._cron_release(now=self.window.date_end + timedelta(seconds=1)), 1)
        self.assertEqual(review.autofix_state, "opened", review.autofix_reason)
        [fix_pr] = self.fix_pulls()
        self.assertEqual(fix_pr["base_ref"], HEAD_BRANCH)
        self.assertEqual(self.github.files_at(REPO, review.autofix_branch)[FILE], FIXED)
        self.assertTrue(review.ai_finding_ids.filtered(lambda f: f.line == 16).auto_fixed)
        self.assert_base_never_written()

    def test_a_ci_fix_waits_without_asking_claude_and_an_override_releases_it(self):
        self.set_params(ci_autofix_enabled=True)
        self.pull, self.head = self.open_pr()
        self.claude.push(answer())
        self.run_reviews()
        self.claude.reset()
        self.failure()
        fix = self.Review.search([("kind", "=", "ci_fix")])
        self.run_reviews()
        self.assertEqual((fix.state, fix.state_reason), ("queued", "freeze"))
        self.assertEqual(fix.next_attempt_at, self.window.date_end)
        self.assertEqual(self.claude.received, [], "Claude is not asked during the freeze")
        self.run_reviews()
        self.assertEqual(self.claude.received, [], "not due before the freeze ends")

        self.env["ops.freeze.override"].with_user(self.manager).create(
            {"window_id": self.window.id, "reason": "Checkout broken", "date_until": self.window.date_end}
        )
        self.assertEqual(self.Hold._cron_release(), 1)
        self.assertEqual((fix.state, fix.next_attempt_at), ("queued", False))
        self.claude.push(test_review_ci_fix.fix_answer())
        self.run_reviews()
        self.assertEqual((fix.state, fix.autofix_state), ("done", "opened"), fix.error)
