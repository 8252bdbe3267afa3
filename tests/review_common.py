"""Set-up shared by the review tests: a local GitHub (review routes) and a local Anthropic API.

The real PyGithub and anthropic clients talk to both over 127.0.0.1; the
repository of :class:`OpsDataMixin` points at the GitHub server with a token,
and the settings point the AI review at the Anthropic server.
"""

import json
import logging
import re
from contextlib import contextmanager
from datetime import datetime, timedelta

from odoo.tests import tagged

from ..autopilot.testing import anthropic_server as fa
from ..autopilot.testing import github_payloads as gp
from ..autopilot.testing import review_fixtures as rf
from .common import SECRET, OpsTransactionCase

REPO = rf.REPO
FILE = "shop_extras/models/shop_extra.py"
HEAD_BRANCH = "feature/extras"
GH_TOKEN = "ghp_" + "R3v13w" * 6
API_KEY = "sk-ant-api03-" + "Q" * 40
MODEL_V2 = rf.MODEL.replace(
    "        return self.price * quantity\n",
    "        return self.price * quantity\n\n    def discount(self, rate):\n        return self.price * rate\n",
)
MODEL_V3 = MODEL_V2 + "\n    def refund(self):\n        return -self.price\n"
FIXED = MODEL_V2.replace("return self.price * rate", "return self.price * (1 - rate)")
GOOD_PATCH = (
    f"--- a/{FILE}\n+++ b/{FILE}\n@@ -15,2 +15,2 @@\n"
    "     def discount(self, rate):\n-        return self.price * rate\n+        return self.price * (1 - rate)\n"
)
PARAMS = "ops_autopilot."


def finding(line=16, confidence=0.93, patch="", explanation="discount() multiplies the price by the rate."):
    data = {"file": FILE, "line": line, "severity": "error", "explanation": explanation, "confidence": confidence}
    if patch:
        data["suggested_patch"] = patch
    return data


def answer(*findings, summary="Adds a discount to shop extras."):
    return fa.tool_answer({"summary": summary, "findings": list(findings)})


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


@tagged("post_install", "-at_install")
class ReviewCase(OpsTransactionCase):
    """Servers started once per class, reset per test; helpers to open and push pull requests."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.github = rf.ReviewGitHub(token=GH_TOKEN).start()
        cls.addClassCleanup(cls.github.stop)
        cls.claude = fa.FakeAnthropic(api_key=API_KEY).start()
        cls.addClassCleanup(cls.claude.stop)
        cls.Review = cls.env["ops.review"]
        cls.PR = cls.env["ops.pull.request"]

    def setUp(self):
        super().setUp()
        self.github.reset_all()
        self.claude.reset()
        self.repo.write({"api_url": self.github.url, "token": GH_TOKEN})
        self.set_params(
            anthropic_api_key=API_KEY,
            anthropic_base_url=self.claude.url,
            anthropic_timeout_seconds=5,
            review_autofix_enabled=False,
            ci_autofix_enabled=False,
        )
        self.updated = datetime(2026, 1, 1, 12, 0)

    # -- settings ---------------------------------------------------------
    def set_params(self, **values):
        icp = self.env["ir.config_parameter"].sudo()
        for name, value in values.items():
            icp.set_param(PARAMS + name, value if value is not False else False)

    # -- GitHub side ------------------------------------------------------
    def pr_event(self, action, head_sha, number=7, fork=None, title="Shop extras"):
        self.updated += timedelta(minutes=1)
        payload = gp.pull_request_event(
            REPO,
            number=number,
            action=action,
            title=title,
            head_ref=HEAD_BRANCH,
            head_sha=head_sha,
            head_full_name=fork,
            updated=self.updated,
        )
        self.deliver("pull_request", payload)
        return self.PR.search([("repository_id", "=", self.repo.id), ("number", "=", number)])

    def open_pr(self, changes=None, body="Adds a discount.", fork=None):
        """The PR on the local GitHub, and its ``opened`` webhook processed by the foundation."""
        _base, head = rf.open_pull(self.github, changes or {FILE: MODEL_V2}, body=body, fork=fork)
        return self.pr_event("opened", head, fork=fork), head

    def push(self, changes, message="more work", fork=None):
        head = self.github.commit(fork or REPO, changes, message=message, branch=HEAD_BRANCH)
        if fork:
            self.github.branches[REPO]["pull/7/head"] = head
        self.pr_event("synchronize", head, fork=fork)
        return head

    def run_reviews(self):
        return self.Review._cron_process_reviews()

    def reviews(self, pull=None):
        domain = [("kind", "=", "pull_request")]
        if pull is not None:
            domain.append(("pull_request_id", "=", pull.id))
        return self.Review.search(domain, order="id")

    def comments(self, number=7):
        return self.github.issue_comments.get((REPO, number), [])

    def sent(self, index=-1):
        """The JSON the model received inside the untrusted data block."""
        user = self.claude.received[index]["messages"][0]["content"]
        return json.loads(re.search(r"<untrusted_data[^>]*>\n(.*)\n</untrusted_data>", user, re.S)[1])

    def assert_base_never_written(self):
        """No write names the base branch or merges anything: only comments, reviews and fix branches."""
        for call in self.github.writes():
            body = call.json() or {}
            self.assertNotRegex(call.path, r"/merge")
            if "/contents/" in call.path:
                self.assertTrue(body["branch"].startswith("ops-autopilot/fix/"), body["branch"])
            elif call.path.endswith("/git/refs"):
                self.assertTrue(body["ref"].startswith("refs/heads/ops-autopilot/fix/"), body["ref"])
            elif call.path.endswith("/pulls"):
                self.assertEqual(body["base"], HEAD_BRANCH)
                self.assertTrue(body["head"].startswith("ops-autopilot/fix/"))
            else:
                self.assertRegex(call.path, r"/issues/\d+/comments$|/issues/comments/\d+$|/pulls/\d+/reviews$")
        self.assertEqual(self.github.branch_sha(REPO, "main"), self.base_sha())

    def base_sha(self):
        return next(sha for sha, obj in self.github.objects.items() if obj["message"] == "initial")

    @contextmanager
    def capture_logs(self):
        """Every log record that reaches the root logger meanwhile (the addon's own at DEBUG too)."""
        handler, root, ours = _Capture(), logging.getLogger(), logging.getLogger("odoo.addons.ops_autopilot")
        old_level = ours.level
        root.addHandler(handler)
        ours.setLevel(logging.DEBUG)
        try:
            yield handler.lines
        finally:
            root.removeHandler(handler)
            ours.setLevel(old_level)

    def chatter_text(self, records):
        """Bodies and tracked values of every message posted on ``records``."""
        domain = [("model", "=", records._name), ("res_id", "in", records.ids)]
        messages = self.env["mail.message"].sudo().search(domain)
        tracking = messages.tracking_value_ids
        texts = messages.mapped("body") + tracking.mapped("old_value_char") + tracking.mapped("new_value_char")
        return "\n".join(str(text) for text in texts if text)


__all__ = ["SECRET", "ReviewCase"]
