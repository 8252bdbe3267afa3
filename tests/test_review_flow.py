"""Pull request review flow: webhook -> queued review -> cron -> checks, Claude, sticky comment, inline, auto-fix."""

import typing

import anthropic

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from ..autopilot.review import ai_review, pr_feedback
from ..autopilot.testing import review_fixtures as rf
from ..models.ops_params import DEFAULTS
from .review_common import (
    FILE,
    FIXED,
    GOOD_PATCH,
    HEAD_BRANCH,
    MODEL_V2,
    MODEL_V3,
    REPO,
    ReviewCase,
    answer,
    finding,
)


@tagged("post_install", "-at_install")
class TestReviewFlow(ReviewCase):
    def test_a_pull_request_is_reviewed_once_per_head_with_one_sticky_comment(self):
        pull, head = self.open_pr()
        review = self.reviews(pull)
        self.assertEqual((len(review), review.state, review.head_sha), (1, "queued", head))
        self.pr_event("reopened", head)  # the same head again: no second review
        self.assertEqual(len(self.reviews(pull)), 1)

        self.claude.push(answer(finding(16, 0.93), finding(15, 0.5, explanation="Name it apply_discount.")))
        self.run_reviews()
        self.assertEqual(review.state, "done", review.error)
        self.assertEqual((review.reviewed_sha, review.incremental, review.from_sha), (head, False, False))
        (comment,) = self.comments()
        self.assertEqual(review.comment_id, comment["id"])
        self.assertIn(f"#issuecomment-{comment['id']}", review.comment_url)
        self.assertEqual(pr_feedback.reviewed_head(comment["body"]), head)
        self.assertEqual(review.summary, "Adds a discount to shop extras.")
        ai = review.ai_finding_ids.sorted("line")
        self.assertEqual(ai.mapped("line"), [15, 16])
        self.assertEqual(ai.mapped("posted_inline"), [False, True], "only the confident finding goes inline")
        self.assertEqual(review.inline_comment_count, 1)
        (inline,) = self.github.pull_reviews[(REPO, 7)]
        self.assertEqual(inline["state"], "COMMENTED", "the bot never approves nor requests changes")
        self.assertTrue(review.input_tokens > 0 and review.output_tokens > 0 and review.cost > 0)
        self.assertEqual(review.ai_model, "claude-sonnet-5-5")
        self.assertEqual(review.rule_pack_names, "odoo, oca", "tax_ph is optional, off by default")
        self.assertEqual(self.claude.received[0]["model"], "claude-sonnet-5-5")
        self.assertEqual(self.run_reviews(), 0, "nothing left to do")
        self.assertEqual(len(self.claude.received), 1)

    def test_a_new_push_updates_the_same_comment_and_reviews_only_the_new_commits(self):
        pull, first = self.open_pr()
        self.claude.push(answer(finding(16)))
        self.run_reviews()
        second = self.push({FILE: MODEL_V3}, message="add refund")
        self.claude.push(answer(finding(19, 0.95, explanation="A refund ignores the quantity.")))
        self.run_reviews()
        older, newer = self.reviews(pull)
        self.assertEqual(newer.state, "done", newer.error)
        self.assertEqual((newer.incremental, newer.from_sha, newer.reviewed_sha), (True, first, second))
        self.assertEqual(newer.reviewed_range, f"{first[:7]}..{second[:7]}")
        (comment,) = self.comments()  # edited, not duplicated
        self.assertEqual(older.comment_id, newer.comment_id)
        self.assertEqual(pr_feedback.reviewed_head(comment["body"]), second)
        self.assertEqual(len(self.github.calls("POST", r"/issues/7/comments$")), 1)
        self.assertEqual(len(self.github.calls("PATCH", r"/issues/comments/")), 1)
        sent = self.sent()
        self.assertEqual(sent["review_scope"]["commits"], [{"sha": second, "message": "add refund"}])
        (patch,) = [f["patch"] for f in sent["files"]]
        added = [line for line in patch.splitlines() if line.startswith("+")]
        self.assertEqual(added, ["+", "+    def refund(self):", "+        return -self.price"])

    def test_pushes_before_the_cron_ran_are_reviewed_once_at_the_newest_head(self):
        pull, _first = self.open_pr()
        second = self.push({FILE: MODEL_V3})
        review = self.reviews(pull)
        self.assertEqual((len(review), review.head_sha), (1, second))
        self.claude.push(answer())
        self.run_reviews()
        self.assertEqual((review.state, review.reviewed_sha), ("done", second))
        self.assertEqual(len(self.claude.received), 1)

    def test_the_threshold_gates_the_auto_fix_and_the_base_branch_is_never_written(self):
        self.set_params(review_autofix_enabled=True)
        pull, head = self.open_pr()
        unsure = finding(15, 0.6, patch=GOOD_PATCH.replace("(1 - rate)", "(1 + rate)"), explanation="Unsure.")
        self.claude.push(answer(finding(16, 0.9, patch=GOOD_PATCH), unsure))
        self.run_reviews()
        review = self.reviews(pull)
        self.assertEqual(review.autofix_state, "opened", review.autofix_reason)
        self.assertTrue(review.autofix_branch.startswith("ops-autopilot/fix/pr-7-"))
        fix_pr = self.github.pulls[(REPO, review.autofix_pr_number)]
        self.assertEqual((fix_pr["base_ref"], fix_pr["head_ref"]), (HEAD_BRANCH, review.autofix_branch))
        self.assertEqual(self.github.files_at(REPO, review.autofix_branch)[FILE], FIXED, "only the confident patch")
        self.assertEqual(review.ai_finding_ids.sorted("line").mapped("auto_fixed"), [False, True])
        self.assertEqual(self.github.branch_sha(REPO, HEAD_BRANCH), head, "the PR's own branch is untouched")
        self.assert_base_never_written()

        # above the threshold nothing: the patch stays a suggestion
        self.set_params(review_confidence_threshold=0.95)
        self.push({FILE: MODEL_V3})
        self.claude.push(answer(finding(19, 0.9, patch=GOOD_PATCH)))
        self.run_reviews()
        newer = self.reviews(pull)[-1]
        self.assertEqual(newer.state, "done", newer.error)
        self.assertEqual(newer.autofix_state, "refused")
        self.assertIn("below_threshold", newer.autofix_reason)
        self.assertFalse(newer.ai_finding_ids.posted_inline, "0.9 is below the new threshold")
        self.assertEqual(len([p for p in self.github.pulls if p[0] == REPO]), 2, "no second fix PR")

    def test_auto_fix_is_off_unless_enabled(self):
        pull, _head = self.open_pr()
        self.claude.push(answer(finding(16, 0.99, patch=GOOD_PATCH)))
        self.run_reviews()
        self.assertEqual(self.reviews(pull).autofix_state, "none")
        self.assertFalse(self.github.calls("POST", r"/git/refs$"))


@tagged("post_install", "-at_install")
class TestReviewRulePacks(ReviewCase):
    TAX_MANIFEST = rf.MANIFEST.replace('"Shop Extras"', '"PH Withholding Tax"')

    def tax_addon(self):
        return {
            f"ph_withholding_tax/{path.split('/', 1)[1]}": text
            for path, text in rf.addon_files().items()
            if path.startswith("shop_extras/")
        } | {"ph_withholding_tax/__manifest__.py": self.TAX_MANIFEST}

    def test_the_tax_pack_is_optional_and_packs_select_engine_rules(self):
        packs = self.env["ops.review.rule.pack"].with_context(active_test=False)
        tax = self.env.ref("ops_autopilot.rule_pack_tax_ph")
        self.assertFalse(tax.active)
        self.assertEqual(packs.search([("source", "=", "builtin")]).mapped("code"), ["odoo", "oca", "tax_ph"])
        self.assertGreater(tax.rule_count, 3)

        pull, _head = self.open_pr(self.tax_addon())
        self.claude.push(answer(summary="Adds a withholding tax module."))
        self.run_reviews()
        rules = set(self.reviews(pull).check_finding_ids.mapped("rule"))
        self.assertFalse({r for r in rules if r.startswith("tax-ph")}, "inactive pack: no tax finding")

        tax.active = True
        self.env.ref("ops_autopilot.rule_pack_oca").disabled_rules = "oca-no-print"
        self.push({"ph_withholding_tax/models/shop_extra.py": rf.MODEL + "\nprint('x')\n"})
        self.claude.push(answer(summary="Prints something."))
        self.run_reviews()
        newer = self.reviews(pull)[-1]
        rules = set(newer.check_finding_ids.mapped("rule"))
        self.assertIn("tax-ph-localisation-dependency", rules)
        self.assertNotIn("oca-no-print", rules, "a disabled rule does not run")
        self.assertIn("tax_ph", newer.rule_pack_names)

    def test_a_team_adds_its_own_pack_as_json(self):
        definition = (
            '{"name": "acme", "rules": [{"id": "acme-no-todo", "kind": "forbidden_regex", "severity": "warning",'
            ' "params": {"regex": "TODO", "globs": ["*.py"], "message": "no TODO in merged code"}}]}'
        )
        self.env["ops.review.rule.pack"].create({"name": "Acme", "code": "acme", "definition": definition})
        pull, _head = self.open_pr({FILE: MODEL_V2 + "\n# TODO later\n"})
        self.claude.push(answer())
        self.run_reviews()
        check = self.reviews(pull).check_finding_ids.filtered(lambda f: f.rule == "acme-no-todo")
        self.assertEqual((check.file, check.severity, check.explanation), (FILE, "warning", "no TODO in merged code"))
        self.assertIn("acme-no-todo", self.comments()[0]["body"])
        with self.assertRaises(ValidationError):
            self.env["ops.review.rule.pack"].create({"name": "Bad", "code": "bad", "definition": '{"name": "bad"}'})
        with self.assertRaises(ValidationError):
            self.env["ops.review.rule.pack"].create({"name": "Nope", "code": "nope", "source": "builtin"})


@tagged("post_install", "-at_install")
class TestReviewSettings(ReviewCase):
    def test_the_default_model_is_one_the_installed_sdk_knows(self):
        known = {name for arg in typing.get_args(anthropic.types.Model) for name in typing.get_args(arg)}
        self.assertIn(DEFAULTS["anthropic_model"], known)
        self.assertEqual(DEFAULTS["anthropic_model"], ai_review.DEFAULT_MODEL)
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.ops_review_confidence_threshold, 0.85)
        self.assertFalse(settings.ops_review_autofix_enabled or settings.ops_ci_autofix_enabled, "opt-in")
        ai = self.Review._ai_settings()
        self.assertEqual((ai.model, ai.confidence_threshold, ai.max_tokens), ("claude-sonnet-5-5", 0.85, 4096))
