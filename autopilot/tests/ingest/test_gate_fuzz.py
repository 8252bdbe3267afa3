"""Fuzz of the webhook gate and of payload normalisation.

Whatever arrives (random bytes, odd encodings, deep nesting, huge numbers,
wrong types inside valid JSON, valid signatures over garbage), the gate
answers with a documented verdict and never raises; what it lets in, and
what the parsers turn it into, is safe to hand to PostgreSQL. The same
properties are checked through the real HTTP endpoint in the Odoo suite
(``tests/test_webhook_fuzz.py``) with fewer examples.
"""

import json
from datetime import datetime
from urllib.parse import urlencode

from github import GithubException
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from autopilot.github import events, rest_api, signature
from autopilot.ingest import gate
from autopilot.testing import github_payloads as gp
from autopilot.testing.webhook_fuzz import (
    GUID,
    REPO,
    assert_db_safe,
    bodies,
    content_types,
    examples,
    header_text,
    mutated_deliveries,
    text,
)

SECRET = "fuzz-secret"
OTHER_SECRET = "another-repository's-secret"
REFUSALS = {400, 401, 404, 413}

FUZZ = settings(
    max_examples=examples(300),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


class Lookup:
    """The repository lookup the gate is given; like the database, it only takes clean text."""

    def __init__(self, repos=None):
        self.repos = repos or {1: (REPO, SECRET), 2: ("acme/other", OTHER_SECRET)}
        self.calls = []

    def __call__(self, full_name, organization):
        assert_db_safe(full_name, "full_name")
        assert_db_safe(organization, "organization")
        self.calls.append((full_name, organization))
        if full_name:
            return [(k, s) for k, (name, s) in self.repos.items() if name.lower() == full_name.lower()]
        owner = organization.lower()
        return [(k, s) for k, (name, s) in self.repos.items() if name.split("/")[0].lower() == owner]


def verdict_is_documented(verdict):
    if isinstance(verdict, gate.Rejected):
        assert verdict.status in REFUSALS, verdict
        assert isinstance(verdict.reason, str) and verdict.reason
        verdict.reason.encode("utf-8")  # sent back as JSON: must be encodable
        return False
    assert isinstance(verdict, gate.Accepted), verdict
    assert_db_safe(verdict.guid)
    assert_db_safe(verdict.event)
    assert_db_safe(verdict.action)
    assert_db_safe(verdict.payload_text)
    assert_db_safe(verdict.hook_id)
    assert 0 <= verdict.hook_id <= events.MAX_ID
    assert isinstance(json.loads(verdict.payload_text), dict)
    return True


# --------------------------------------------------------------------------
# the gate
# --------------------------------------------------------------------------


@FUZZ
@given(
    body=bodies,
    content_type=content_types,
    event=header_text,
    guid=st.one_of(st.just(GUID), header_text),
    hook_id=st.one_of(st.none(), header_text),
    signer=st.sampled_from(["valid", "other_repository", "garbage", "missing", "sha1", "truncated"]),
    garbage=header_text,
)
@example(b'{"repository": {"full_name": "\\ud800/x"}}', "application/json", "push", GUID, None, "valid", "")
@example(b'{"organization": {"login": "\\udfff"}}', "application/json", "ping", GUID, None, "valid", "")
@example(json.dumps(gp.ping_event(REPO)).encode(), "application/json", "ping", GUID, "\xb2", "valid", "")
def test_the_gate_answers_every_request_with_a_documented_verdict(
    body, content_type, event, guid, hook_id, signer, garbage
):
    headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": guid}
    if hook_id is not None:
        headers["X-GitHub-Hook-ID"] = hook_id
    valid = signature.sign(SECRET, body)
    headers["X-Hub-Signature-256"] = {
        "valid": valid,
        "other_repository": signature.sign(OTHER_SECRET, body),
        "garbage": garbage,
        "missing": "",
        "sha1": "sha1=" + valid[7:47],
        "truncated": valid[:-1],
    }[signer]
    verdict = gate.evaluate(headers, body, content_type, Lookup())
    if verdict_is_documented(verdict):
        assert signer == "valid", "only the repository's own secret lets a delivery in"
        assert verdict.matches == (1,)


@settings(FUZZ, max_examples=examples(200))
@given(delivery=mutated_deliveries(), form=st.booleans())
def test_wrong_types_inside_valid_signed_json_are_refused_or_normalised_cleanly(delivery, form):
    event, payload = delivery
    text = json.dumps(payload)
    body = urlencode({"payload": text}).encode() if form else text.encode()
    content_type = "application/x-www-form-urlencoded" if form else "application/json"
    headers = {"X-GitHub-Event": event, "X-GitHub-Delivery": GUID, "X-Hub-Signature-256": signature.sign(SECRET, body)}
    verdict = gate.evaluate(headers, body, content_type, Lookup())
    if not verdict_is_documented(verdict):
        assert verdict.status in (400, 404), verdict
        return
    # what the processing cron does with it: a typed object, or a PayloadError naming the path
    try:
        parsed = events.parse_event(event, json.loads(verdict.payload_text))
    except events.PayloadError as exc:
        assert exc.path.startswith("payload"), exc
        return
    assert_db_safe(parsed, event)
    if isinstance(parsed, events.Push):
        assert_db_safe(parsed.changed_files, "changed_files")


timestamps = st.tuples(st.datetimes(), st.sampled_from(["", "Z", "+00:00", "+05:30", "-12:00", "+23:59"])).map(
    lambda parts: parts[0].isoformat() + parts[1]
)


@settings(FUZZ, max_examples=examples(200))
@given(value=st.one_of(timestamps, text, st.integers(), st.none(), st.lists(st.integers(), max_size=2)))
def test_timestamps_parse_or_raise_a_payload_error(value):
    try:
        moment = events.parse_timestamp(value)
    except events.PayloadError:
        return
    assert moment is None or (isinstance(moment, datetime) and moment.tzinfo is None)


@settings(max_examples=examples(200), deadline=None, database=None)
@given(body=st.binary(max_size=200), header=header_text, secret=st.text(min_size=1, max_size=20))
def test_signature_check_never_raises_and_only_accepts_the_right_digest(body, header, secret):
    expected = signature.sign(secret, body)
    if signature.verify(secret, body, header):
        assert header.strip() == expected
    assert signature.verify(secret, body, expected)
    assert not signature.verify(secret, body + b" ", expected), "a signature covers exactly its body"
    assert not signature.verify(secret + "x", body, expected), "nor verifies under another secret"


def test_a_run_id_too_long_for_a_bigint_is_no_run_id():
    url = "https://github.com/acme/erp/actions/runs/{}/job/7"
    assert events.run_id_from_url(url.format(4242)) == 4242
    assert events.run_id_from_url(url.format("9" * 30)) == 0
    assert events.run_id_from_url(url.format("\u0663\u0664")) == 0, "Arabic-Indic digits are no GitHub id"


def test_errors_github_echoes_back_are_masked():
    token = "ghp_" + "E" * 36
    for message in (f"Bad credentials: token {token}", f"Authorization: Bearer {token}", f"{token} is revoked"):
        exc = GithubException(401, {"message": message}, {})
        assert token not in rest_api.describe_error(exc)
        assert token not in str(rest_api.from_github(exc))
