import json
from urllib.parse import urlencode

import pytest

from autopilot.github import signature
from autopilot.ingest import gate
from autopilot.testing import github_payloads as gp

SECRET = "s3cret"


def lookup(repos):
    def secrets_for(full_name, organization):
        if full_name:
            return [(key, secret) for key, (name, secret) in repos.items() if name.lower() == full_name.lower()]
        return [(key, secret) for key, (name, secret) in repos.items() if name.split("/")[0] == organization]

    return secrets_for


REPOS = lookup({1: ("acme/erp", SECRET), 2: ("acme/other", "other-secret"), 3: ("acme/nosecret", "")})


def headers(body, event="workflow_run", guid="72d3162e-cc78-11e3-81ab-4c9367dc0958", secret=SECRET):
    result = {"X-GitHub-Event": event, "X-GitHub-Delivery": guid, "Content-Type": "application/json"}
    if secret is not None:
        result["X-Hub-Signature-256"] = signature.sign(secret, body)
    return result


def evaluate(body, hdrs, content_type="application/json", repos=REPOS):
    return gate.evaluate(hdrs, body, content_type, repos)


def test_a_signed_delivery_is_accepted():
    body = json.dumps(gp.workflow_run_event("acme/erp")).encode()
    verdict = evaluate(body, headers(body) | {"X-GitHub-Hook-ID": "4242"})
    assert isinstance(verdict, gate.Accepted)
    assert verdict.matches == (1,) and verdict.handled and verdict.hook_id == 4242
    assert json.loads(verdict.payload_text)["workflow_run"]["id"]


def test_repository_names_are_case_insensitive():
    body = json.dumps(gp.workflow_run_event("Acme/ERP")).encode()
    assert isinstance(evaluate(body, headers(body)), gate.Accepted)


def _refusal_request(case):
    """``(body, headers, content_type)`` of one refusal case of :func:`test_refusals`."""
    good = json.dumps(gp.workflow_run_event("acme/erp")).encode()
    signed_bodies = {
        "no_secret_configured": json.dumps(gp.workflow_run_event("acme/nosecret")).encode(),
        "unknown_repo": json.dumps(gp.workflow_run_event("evil/repo")).encode(),
        "bad_json": b'{"repository": ',
        "json_array": b"[1, 2, 3]",
        "not_utf8": b'{"a": "\xff\xfe"}',
        "too_deep": b"[" * 100_000 + b"]" * 100_000,
        "no_repo_no_org": b'{"zen": "hi"}',
        "repo_name_not_a_string": json.dumps({"repository": {"full_name": 12}}).encode(),
        "text_plain": b"hello",
    }
    if case in signed_bodies:
        body = signed_bodies[case]
        return body, headers(body), "text/plain" if case == "text_plain" else "application/json"
    if case == "too_big":
        body = b" " * (gate.MAX_BODY + 1)
        return body, headers(good), "application/json"
    if case == "no_signature_unknown_repo":
        body = signed_bodies["unknown_repo"]
        return body, headers(body, secret=None), "application/json"
    hdrs = headers(good)
    changes = {
        "no_event": ("X-GitHub-Event", None),
        "bad_event": ("X-GitHub-Event", "Workflow Run<script>"),
        "no_guid": ("X-GitHub-Delivery", None),
        "bad_guid": ("X-GitHub-Delivery", "../../etc/passwd"),
        "no_signature": ("X-Hub-Signature-256", None),
        "wrong_signature": ("X-Hub-Signature-256", signature.sign("guess", good)),
        "other_repos_secret": ("X-Hub-Signature-256", signature.sign("other-secret", good)),
    }
    name, value = changes[case]
    if value is None:
        del hdrs[name]
    else:
        hdrs[name] = value
    return good, hdrs, "application/json"


@pytest.mark.parametrize(
    "case, status, code, claimed, claimed_name",
    [
        ("no_event", 400, gate.BAD_EVENT, (1,), ""),
        ("bad_event", 400, gate.BAD_EVENT, (1,), ""),
        ("no_guid", 400, gate.BAD_GUID, (1,), ""),
        ("bad_guid", 400, gate.BAD_GUID, (1,), ""),
        ("no_signature", 401, gate.NO_SIGNATURE, (1,), ""),
        ("wrong_signature", 401, gate.BAD_SIGNATURE, (1,), ""),
        ("other_repos_secret", 401, gate.BAD_SIGNATURE, (1,), ""),
        ("no_secret_configured", 401, gate.NO_SECRET, (3,), ""),
        ("unknown_repo", 404, gate.UNKNOWN_REPOSITORY, (), "evil/repo"),
        ("bad_json", 400, gate.MALFORMED, (), ""),
        ("json_array", 400, gate.MALFORMED, (), ""),
        ("not_utf8", 400, gate.MALFORMED, (), ""),
        ("too_deep", 400, gate.MALFORMED, (), ""),
        ("no_repo_no_org", 400, gate.MALFORMED, (), ""),
        ("repo_name_not_a_string", 400, gate.MALFORMED, (), ""),
        ("too_big", 413, gate.TOO_LARGE, (), ""),
        ("text_plain", 400, gate.CONTENT_TYPE, (), ""),
        ("no_signature_unknown_repo", 401, gate.NO_SIGNATURE, (), "evil/repo"),
    ],
)
def test_refusals(case, status, code, claimed, claimed_name):
    """Each refusal has its status, its code, and the repository its (unauthenticated) body names."""
    body, hdrs, content_type = _refusal_request(case)
    verdict = evaluate(body, hdrs, content_type=content_type)
    assert isinstance(verdict, gate.Rejected)
    assert verdict.status == status, verdict.reason
    assert verdict.code == code
    assert (verdict.claimed, verdict.claimed_name) == (claimed, claimed_name)


def test_a_claim_names_at_most_max_claimed_repositories():
    many = lookup({index: (f"acme/r{index}", "s") for index in range(gate.MAX_CLAIMED + 5)})
    body = json.dumps({"zen": "z", "hook_id": 1, "organization": {"login": "acme"}}).encode()
    verdict = evaluate(body, headers(body, event="ping", secret="wrong"), repos=many)
    assert verdict.code == gate.BAD_SIGNATURE
    assert len(verdict.claimed) == gate.MAX_CLAIMED


def test_a_json_body_sent_as_text_is_still_read():
    """The content type names the refusal of a body that does not decode; it never refuses one that does."""
    body = json.dumps(gp.workflow_run_event("acme/erp")).encode()
    assert isinstance(evaluate(body, headers(body), content_type="text/plain"), gate.Accepted)


def test_unknown_events_are_accepted_but_not_handled():
    body = json.dumps({"action": "created", "repository": {"full_name": "acme/erp"}}).encode()
    verdict = evaluate(body, headers(body, event="star"))
    assert isinstance(verdict, gate.Accepted) and not verdict.handled


def test_form_encoded_deliveries_are_verified_on_the_raw_body():
    payload = json.dumps(gp.workflow_run_event("acme/erp"))
    body = urlencode({"payload": payload}).encode()
    verdict = evaluate(body, headers(body), content_type="application/x-www-form-urlencoded")
    assert isinstance(verdict, gate.Accepted)
    assert verdict.payload_text == payload
    empty = urlencode({"other": "x"}).encode()
    assert evaluate(empty, headers(empty), content_type="application/x-www-form-urlencoded").status == 400


def test_organization_ping_matches_the_owners_repositories_by_secret():
    body = json.dumps({"zen": "z", "hook_id": 1, "organization": {"login": "acme"}}).encode()
    verdict = evaluate(body, headers(body, event="ping", secret="other-secret"))
    assert isinstance(verdict, gate.Accepted) and verdict.matches == (2,)
    assert evaluate(body, headers(body, event="ping", secret="nobody's")).status == 401


@pytest.mark.parametrize("event", ["projects_v2_item", "projects_v2", "projects_v2_status_update", "sub_issues"])
def test_event_names_with_digits_are_valid(event):
    """An organization hook sending everything delivers events such as ``projects_v2_item``: stored, not refused."""
    body = json.dumps(gp.projects_v2_item_event("acme")).encode()
    verdict = evaluate(body, headers(body, event=event, secret="other-secret"))
    assert isinstance(verdict, gate.Accepted), verdict
    assert verdict.matches == (2,) and not verdict.handled
