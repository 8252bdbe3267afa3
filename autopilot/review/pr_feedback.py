"""The GitHub side of a code review: what is read from a pull request and what is written back.

Through PyGithub (:func:`..github.rest_api.connect`) this module decides:

* **what to review** — the PR's files, and on a new push only what the new
  commits changed: a ``last_reviewed..head`` compare when the last reviewed
  head is an ancestor of the new one, the whole PR after a force-push;
* **one sticky comment** — a single issue comment carrying the hidden
  :data:`MARKER` is created on the first review and edited on every later
  push, never duplicated; it also carries the reviewed head sha
  (``<!-- ops-autopilot-head: ... -->``) so the next run knows where it stopped
  even without Odoo's record;
* **inline comments** — findings at or above the confidence threshold go in
  one ``COMMENT`` review on the right diff line (``side="RIGHT"``), only on
  lines GitHub accepts (lines of the PR's diff). The bot never approves or
  requests changes.

:func:`review_pull_request` runs a whole review and returns a
:class:`ReviewRun` that ``ops.review`` stores as is.
"""

import logging
import re
from dataclasses import dataclass, field

from github import GithubException
from github.Repository import Repository

from ..common.errors import BadAnswer
from ..common.markdown import code_block, defuse_mentions
from ..common.masking import mask_secrets
from ..github import rest_api
from . import ai_review, architecture

_logger = logging.getLogger(__name__)

MARKER = "<!-- ops-autopilot-review -->"
_HEAD_MARKER = re.compile(r"<!-- ops-autopilot-head: ([0-9a-f]{40}) -->")
MAX_COMMENT = 60_000
MAX_LISTED = 40
MAX_PR_FILES = 3000

#: states of a :class:`ReviewRun`
REVIEWED, NOTHING_NEW, CHECKS_ONLY, REJECTED, RETRY, FAILED = (
    "reviewed",
    "nothing_new",
    "checks_only",
    "rejected",
    "retry",
    "failed",
)


# --------------------------------------------------------------------------
# reading the pull request
# --------------------------------------------------------------------------


def lazy_repo(client, full_name):
    """The repository as a PyGithub object that costs no request until one of its fields is read."""
    requester = client.requester
    if hasattr(requester, "withLazy"):  # PyGithub >= 2.9
        return Repository(requester.withLazy(True), url=f"/repos/{full_name}")
    return client.get_repo(full_name)  # older PyGithub: one GET


@dataclass(frozen=True)
class PullSnapshot:
    full_name: str
    number: int
    title: str
    body: str
    author: str
    head_sha: str
    head_ref: str
    head_repo: str  # "" when the fork was deleted
    base_sha: str
    base_ref: str
    base_repo: str
    default_branch: str
    files: tuple = ()  # architecture.ChangedFile of the whole PR (base...head)

    @property
    def is_fork(self):
        """A PR from another repository (or from a deleted one): never trusted with writes or runs."""
        return not self.head_repo or self.head_repo != self.base_repo

    @property
    def paths(self):
        return frozenset(f.path for f in self.files)

    def pull_info(self):
        return ai_review.PullInfo(
            repository=self.full_name,
            number=self.number,
            title=self.title,
            body=self.body,
            author=self.author,
            base_ref=self.base_ref,
            head_ref=self.head_ref,
            head_sha=self.head_sha,
        )


def _changed(file_obj):
    return architecture.ChangedFile(
        path=file_obj.filename,
        status=file_obj.status or "modified",
        patch=file_obj.patch or "",
        previous_path=file_obj.previous_filename or "",
    )


def fetch_pull(client, full_name, number):
    """The PR as it is now: head, base, fork or not, and its changed files."""
    pull = lazy_repo(client, full_name).get_pull(int(number))
    head_repo = pull.head.repo.full_name if pull.head.repo is not None else ""
    base_repo = pull.base.repo.full_name if pull.base.repo is not None else full_name
    files = []
    for index, file_obj in enumerate(pull.get_files()):
        if index >= MAX_PR_FILES:
            break
        files.append(_changed(file_obj))
    return PullSnapshot(
        full_name=full_name,
        number=pull.number,
        title=pull.title or "",
        body=pull.body or "",
        author=pull.user.login if pull.user else "",
        head_sha=pull.head.sha,
        head_ref=pull.head.ref,
        head_repo=head_repo,
        base_sha=pull.base.sha,
        base_ref=pull.base.ref,
        base_repo=base_repo,
        default_branch=(pull.base.repo.default_branch if pull.base.repo is not None else "") or "",
        files=tuple(files),
    )


class ContentLoader:
    """``loader(path, ref) -> text | None`` over the contents API, for the checks and the auto-fix.

    Reads go to the base repository: GitHub serves a fork PR's head commit
    there too, so nothing is ever fetched from (or run in) the fork.
    """

    def __init__(self, client, full_name):
        self._repo = lazy_repo(client, full_name)
        self._cache = {}
        self._blobs = {}

    def __call__(self, path, ref):
        key = (path, ref)
        if key in self._cache:
            return self._cache[key]
        try:
            content = self._repo.get_contents(path, ref=ref)
        except GithubException as exc:
            if exc.status == 404:
                self._cache[key] = None
                return None
            raise
        text = None
        if not isinstance(content, list) and getattr(content, "type", "file") == "file":
            try:
                text = rest_api.content_bytes(self._repo, content).decode("utf-8")
                self._blobs[key] = content.sha
            except (UnicodeDecodeError, ValueError, BadAnswer):
                text = None
        self._cache[key] = text
        return text

    def blob_sha(self, path, ref):
        """The blob id GitHub gave for ``path`` at ``ref`` (read it first)."""
        if (path, ref) not in self._blobs:
            self(path, ref)
        return self._blobs.get((path, ref))


@dataclass(frozen=True)
class ReviewScope:
    """The diff a review looks at: the whole PR, or only the commits since the last review."""

    files: tuple
    incremental: bool = False
    from_sha: str = ""
    commits: tuple = ()  # (sha, message) of the reviewed commits
    nothing_new: bool = False


def _commits(paginated, limit=50):
    result = []
    for index, commit in enumerate(paginated):
        if index >= limit:
            break
        result.append((commit.sha, (commit.commit.message or "") if commit.commit else ""))
    return tuple(result)


def review_scope(client, snapshot, last_reviewed_sha=""):
    """Only the new commits when ``last_reviewed_sha`` is an ancestor of the head, else the whole PR."""
    if last_reviewed_sha and last_reviewed_sha == snapshot.head_sha:
        return ReviewScope(files=(), nothing_new=True, from_sha=last_reviewed_sha)
    repo = lazy_repo(client, snapshot.full_name)
    if last_reviewed_sha:
        try:
            comparison = repo.compare(last_reviewed_sha, snapshot.head_sha)
            status = comparison.status
        except GithubException as exc:
            if exc.status not in (404, 422):  # an unknown sha after a force-push: review everything
                raise
            status = "unknown"
        if status == "identical":
            return ReviewScope(files=(), nothing_new=True, from_sha=last_reviewed_sha)
        if status == "ahead":
            in_pr = snapshot.paths
            files = tuple(_changed(f) for f in comparison.files if f.filename in in_pr)
            commits = _commits(comparison.commits)
            return ReviewScope(files=files, incremental=True, from_sha=last_reviewed_sha, commits=commits)
    pull = repo.get_pull(snapshot.number)
    return ReviewScope(files=snapshot.files, commits=_commits(pull.get_commits()))


# --------------------------------------------------------------------------
# writing back
# --------------------------------------------------------------------------


def sanitize(text, limit=4000):
    """Untrusted or model text made safe for a GitHub comment.

    Secrets masked, HTML comments broken (nobody can forge the markers),
    ``@mentions`` defused (no pings), length capped.
    """
    text = mask_secrets(str(text or ""))[0]
    text = text.replace("<!--", "&lt;!--").replace("-->", "--&gt;")
    text = defuse_mentions(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _cell(text, limit=300):
    return sanitize(text, limit).replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def reviewed_head(body):
    """The head sha a sticky comment says was reviewed, or ``""``."""
    match = _HEAD_MARKER.search(body or "")
    return match[1] if match else ""


_AI_NOTES = {
    "no_api_key": "AI review is not configured.",
    "budget_exhausted": "The monthly AI token budget is spent; AI review resumes next month.",
    "budget_insufficient": "This review would overrun the monthly AI token budget; it was not sent.",
    "budget_disabled": "AI review is disabled (token budget 0).",
    "rate_limited": "AI review postponed: the AI service is rate limiting; it will be retried.",
    "overloaded": "AI review postponed: the AI service is overloaded; it will be retried.",
    "timeout": "AI review postponed: the AI service did not answer in time; it will be retried.",
    "connection_error": "AI review postponed: the AI service could not be reached; it will be retried.",
    "server_error": "AI review postponed: the AI service failed; it will be retried.",
    "empty_diff": "No reviewable text diff in this push.",
}


def _ai_section(result, threshold):
    if result is None:
        return ["_AI review is not enabled._"]
    if result.state in ("skipped", "failed"):
        reason = result.outcome.reason
        return [f"_{_AI_NOTES.get(reason, f'AI review failed ({reason}); a person should look at it.')}_"]
    if result.state == "rejected":
        return ["_The AI answer did not pass validation and was discarded; nothing from it was used._"]
    review = result.review
    lines = [sanitize(review.summary, 3000), ""]
    for finding in review.findings[:MAX_LISTED]:
        mark = "inline" if finding.confidence >= threshold else "below threshold"
        lines.append(
            f"- **{finding.severity}** `{_cell(finding.file, 200)}:{finding.line}` "
            f"(confidence {finding.confidence:.2f}, {mark}): {_cell(finding.explanation, 600)}"
        )
    if not review.findings:
        lines.append("No findings.")
    return lines


def render_comment(snapshot, scope, checks, result, threshold, reviewed_sha):
    """The sticky comment's body (Markdown with the hidden markers)."""
    lines = [MARKER]
    if reviewed_sha:
        lines.append(f"<!-- ops-autopilot-head: {reviewed_sha} -->")
    lines.append("### ops_autopilot review")
    if scope.incremental:
        what = f"{len(scope.commits)} new commit(s) since `{scope.from_sha[:7]}`"
    else:
        what = "the whole pull request"
    lines += [f"Head `{snapshot.head_sha[:7]}`: reviewed {what}.", ""]
    counts = architecture.summarize(checks)
    lines.append(
        f"**Architecture checks:** {counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} note(s)"
    )
    if checks:
        lines += ["", "| Severity | Rule | Where | Finding |", "|---|---|---|---|"]
        for finding in checks[:MAX_LISTED]:
            where = f"{finding.path}:{finding.line}" if finding.line else finding.path
            lines.append(f"| {finding.severity} | {finding.rule} | `{_cell(where, 200)}` | {_cell(finding.message)} |")
        if len(checks) > MAX_LISTED:
            lines.append(f"\n…and {len(checks) - MAX_LISTED} more.")
    lines += ["", "**AI review**", ""]
    lines += _ai_section(result, threshold)
    body = "\n".join(lines)
    return body if len(body) <= MAX_COMMENT else body[: MAX_COMMENT - 20] + "\n\n…(truncated)"


def find_sticky_comment(issue, bot_login=None):
    """The first comment carrying :data:`MARKER` (written by ``bot_login`` when given)."""
    for comment in issue.get_comments():
        if MARKER in (comment.body or "") and (bot_login is None or (comment.user and comment.user.login == bot_login)):
            return comment
    return None


def upsert_sticky_comment(client, full_name, number, body, bot_login=None):
    """Create the sticky comment, or edit the existing one; ``(comment id, created)``."""
    if MARKER not in body:
        body = f"{MARKER}\n{body}"
    issue = lazy_repo(client, full_name).get_issue(int(number))
    comment = find_sticky_comment(issue, bot_login)
    if comment is None:
        return issue.create_comment(body).id, True
    if comment.body != body:
        comment.edit(body)
    return comment.id, False


def _finding_body(finding):
    text = f"**{finding.severity}** (confidence {finding.confidence:.2f}): {sanitize(finding.explanation, 3000)}"
    if finding.suggested_patch:
        text += "\n\nSuggested patch:\n" + code_block(sanitize(finding.suggested_patch, 8000), "diff")
    return text + f"\n\n{MARKER}"


@dataclass(frozen=True)
class InlineResult:
    review_id: int | None = None
    comments: int = 0
    skipped: tuple = ()  # findings above the threshold GitHub would not accept on a diff line


def post_inline_review(client, snapshot, review, threshold):
    """One ``COMMENT`` review with a comment per finding at or above ``threshold``, on PR diff lines only."""
    pr_lines = {f.path: f.lines() for f in snapshot.files}
    comments, skipped = [], []
    for finding in review.above(threshold):
        lines = pr_lines.get(finding.file)
        if lines is None or finding.line not in lines.right:
            skipped.append(finding)
            continue
        comments.append({"path": finding.file, "line": finding.line, "side": "RIGHT", "body": _finding_body(finding)})
    if not comments:
        return InlineResult(skipped=tuple(skipped))
    repo = lazy_repo(client, snapshot.full_name)
    pull = repo.get_pull(snapshot.number)
    created = pull.create_review(
        commit=repo.get_commit(snapshot.head_sha),
        body=f"ops_autopilot: {len(comments)} finding(s) at confidence ≥ {threshold:.2f}.",
        event="COMMENT",
        comments=comments,
    )
    return InlineResult(review_id=created.id, comments=len(comments), skipped=tuple(skipped))


# --------------------------------------------------------------------------
# one review, end to end
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewRun:
    """Everything ``ops.review`` records about one review run.

    ``reviewed_sha`` is what to store as the last reviewed head ("" keeps
    the previous one: the next run reviews the same commits again).
    """

    state: str
    head_sha: str = ""
    reviewed_sha: str = ""
    incremental: bool = False
    from_sha: str = ""
    checks: tuple = ()
    ai: object = None  # ai_review.ReviewResult or None
    comment_id: int | None = None
    comment_created: bool = False
    inline: InlineResult = field(default_factory=InlineResult)
    retry_after: float | None = None
    error: str = ""
    snapshot: PullSnapshot | None = None

    @property
    def input_tokens(self):
        return self.ai.outcome.input_tokens if self.ai else 0

    @property
    def output_tokens(self):
        return self.ai.outcome.output_tokens if self.ai else 0

    @property
    def review(self):
        return self.ai.review if self.ai else None


def _ai_state(result):
    """The run state an AI result leads to."""
    if result is None or result.state == "reviewed":
        return REVIEWED if result else CHECKS_ONLY
    if result.state == "rejected":
        return REJECTED
    if result.outcome.retryable:
        return RETRY
    return CHECKS_ONLY if result.state == "skipped" else FAILED


def review_pull_request(
    client,
    full_name,
    number,
    settings=None,
    tokens_used=0,
    last_reviewed_sha=None,
    packs=architecture.DEFAULT_PACKS,
    bot_login=None,
    attempt=1,
    now=None,
    claude_client=None,
    root_name="",
    progress=None,
    known_secrets=(),
):
    """Review PR ``number``: checks, AI review (when ``settings`` given), sticky comment, inline comments.

    ``last_reviewed_sha`` comes from Odoo's record; ``None`` reads it from
    the sticky comment. GitHub failures end in a ``retry`` run with the
    error described (never the token). ``progress(stage)``, when given, is
    called with ``"checking"`` before the architecture checks and
    ``"reviewing"`` before the AI call (``ops.review`` shows the stage).
    ``known_secrets``: more values to mask in the prompt besides the API key
    (the repository's token and webhook secret).
    """
    progress = progress or (lambda _stage: None)
    policy = settings.retry_policy if settings else ai_review.DEFAULT_RETRY_POLICY
    threshold = settings.confidence_threshold if settings else 1.0
    try:
        snapshot = fetch_pull(client, full_name, number)
        if last_reviewed_sha is None:
            issue = lazy_repo(client, full_name).get_issue(int(number))
            sticky = find_sticky_comment(issue, bot_login)
            last_reviewed_sha = reviewed_head(sticky.body) if sticky else ""
        scope = review_scope(client, snapshot, last_reviewed_sha)
        if scope.nothing_new:
            return ReviewRun(NOTHING_NEW, snapshot.head_sha, snapshot.head_sha, snapshot=snapshot)
        loader = ContentLoader(client, full_name)
        progress("checking")
        # the checks are cheap and deterministic: always over the whole PR, so the comment shows its state
        checks = tuple(
            architecture.run_checks(snapshot.files, loader, snapshot.head_sha, snapshot.base_sha, packs, root_name)
        )
        result = None
        if settings is not None:
            request = ai_review.build_review_request(
                snapshot.pull_info(),
                scope.files,
                checks,
                pr_paths=snapshot.paths,
                commits=scope.commits,
                incremental=scope.incremental,
                from_sha=scope.from_sha,
                settings=settings,
                known_secrets=(settings.api_key, *known_secrets),
            )
            if request.context.files:
                progress("reviewing")
                result = ai_review.run_review(settings, request, tokens_used, attempt, now, claude_client)
            else:
                outcome = ai_review.AIOutcome(ai_review.SKIPPED, "empty_diff")
                result = ai_review.ReviewResult("skipped", outcome)
        state = _ai_state(result)
        if result is not None and result.state == "skipped" and result.outcome.reason == "empty_diff":
            state = REVIEWED
        reviewed_sha = snapshot.head_sha if state in (REVIEWED, CHECKS_ONLY, REJECTED) else ""
        body = render_comment(snapshot, scope, checks, result, threshold, reviewed_sha or last_reviewed_sha)
        comment_id, created = upsert_sticky_comment(client, full_name, number, body, bot_login)
        inline = InlineResult()
        if state == REVIEWED and result is not None and result.review is not None:
            inline = post_inline_review(client, snapshot, result.review, threshold)
    except architecture.LoaderError as exc:
        return ReviewRun(RETRY, error=exc.describe(), retry_after=policy.delay(max(attempt, 1)))
    except rest_api.TRANSIENT_ERRORS as exc:
        return ReviewRun(RETRY, error=rest_api.describe_error(exc), retry_after=policy.delay(max(attempt, 1)))
    retry_after = result.outcome.retry_after if state == RETRY and result else None
    return ReviewRun(
        state=state,
        head_sha=snapshot.head_sha,
        reviewed_sha=reviewed_sha,
        incremental=scope.incremental,
        from_sha=scope.from_sha,
        checks=checks,
        ai=result,
        comment_id=comment_id,
        comment_created=created,
        inline=inline,
        retry_after=retry_after,
        error=(result.error or result.outcome.detail) if result and state in (REJECTED, FAILED, RETRY) else "",
        snapshot=snapshot,
    )
