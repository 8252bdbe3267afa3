"""Hypothesis strategies for fuzzing the webhook: hostile bodies, headers and payloads.

Shared by the engine's fuzz tests (``autopilot/tests/ingest/test_gate_fuzz.py``)
and the addon's endpoint fuzz (``tests/test_webhook_fuzz.py``). Payloads name
``acme/erp``, the repository both suites configure.
"""

import copy
import json
import os
from datetime import datetime

from hypothesis import strategies as st

from ..github import events
from . import github_payloads as gp

REPO = "acme/erp"
#: ``OPS_FUZZ_SCALE=50 make test`` multiplies every fuzz test's examples (the suite keeps a quick default)
SCALE = max(1, int(os.environ.get("OPS_FUZZ_SCALE") or 1))
GUID = "72d3162e-cc78-11e3-81ab-4c9367dc0958"


def examples(count):
    """``count`` examples, times ``OPS_FUZZ_SCALE``."""
    return count * SCALE


# --------------------------------------------------------------------------
# what PostgreSQL accepts
# --------------------------------------------------------------------------


def assert_db_safe(value, where="value"):
    """Strings encodable as UTF-8 without NUL, integers that fit a bigint, datetimes in range, recursively."""
    if isinstance(value, str):
        value.encode("utf-8")  # a lone surrogate raises here, as it would in psycopg2
        assert "\x00" not in value, where
    elif isinstance(value, bool) or value is None:
        pass
    elif isinstance(value, int):
        assert -events.MAX_ID - 1 <= value <= events.MAX_ID, where
    elif isinstance(value, float):
        pass
    elif isinstance(value, datetime):
        assert value.tzinfo is None, where
    elif isinstance(value, tuple | list):
        for index, item in enumerate(value):
            assert_db_safe(item, f"{where}[{index}]")
    elif hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            assert_db_safe(getattr(value, name), f"{where}.{name}")
    elif isinstance(value, dict):
        for key, item in value.items():
            assert_db_safe(key, where)
            assert_db_safe(item, f"{where}.{key}")
    else:
        raise AssertionError(f"{where}: unexpected {type(value).__name__}")


# --------------------------------------------------------------------------
# strategies
# --------------------------------------------------------------------------

HOSTILE_STRINGS = [
    "",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "<script>alert(1)</script>",
    "'; DROP TABLE ops_workflow_run; --",
    "²³¹",
    "\u202e\ufeff",
    "A" * 20_000,
    "acme/erp",
    "ACME/ERP",
    "/",
    "acme/",
    "acme/erp/extra",
    "2026-13-45T99:99:99Z",
    "0001-01-01T00:00:00+05:00",
    "9999-12-31T23:59:59-05:00",
    "2026-11-23T10:00:00Z",
    "https://github.com/acme/erp/actions/runs/99999999999999999999999/job/1",
    "https://github.com/acme/erp/actions/runs/٣٤/job/1",
]
text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(min_codepoint=0xD7F0, max_codepoint=0xE010), max_size=6),
    st.sampled_from(HOSTILE_STRINGS),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([-1, 0, 2**31, 2**63 - 1, 2**63, 2**64, -(2**63) - 1, 10**40]),
    st.floats(allow_nan=True, allow_infinity=True),
    text,
)
json_values = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(text, children, max_size=4)),
    max_leaves=12,
)


def base_payloads():
    """One valid payload per handled event (and one not handled), all naming ``acme/erp``."""
    run = gp.workflow_run_event(REPO, run_id=4242, status="completed", conclusion="failure")
    job = gp.workflow_job_event(
        REPO, run_id=4242, steps=[gp.step(1, "Set up job"), gp.step(2, "Run tests", conclusion="failure")]
    )
    check = {
        "action": "completed",
        "check_run": {
            "id": 77,
            "name": "lint",
            "head_sha": "a" * 40,
            "status": "completed",
            "conclusion": "failure",
            "started_at": "2026-11-23T10:00:00Z",
            "completed_at": "2026-11-23T10:01:00Z",
            "details_url": "https://github.com/acme/erp/actions/runs/4242/job/77",
            "app": {"slug": "github-actions", "name": "GitHub Actions"},
            "check_suite": {"id": 9, "head_branch": "main"},
            "output": {"title": "lint", "summary": "1 error"},
        },
        "repository": gp.repository(REPO),
    }
    push = gp.push_event(REPO, commits=[{"added": ["a.py"], "message": "Fix <b>it</b>"}])
    pull = gp.pull_request_event(REPO)
    return [
        ("workflow_run", run),
        ("workflow_job", job),
        ("check_run", check),
        ("push", push),
        ("pull_request", pull),
        ("ping", gp.ping_event(REPO)),
        ("deployment_status", gp.deployment_status_event(REPO, gp.deployment(REPO, 4343), "success", status_id=4344)),
        ("star", {"action": "created", "starred_at": None, "repository": gp.repository(REPO)}),
    ]


BASES = base_payloads()


def paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*prefix, index))


def put(payload, path, value):
    parent = payload
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value


@st.composite
def mutated_deliveries(draw):
    """A valid payload with one to three values replaced by anything JSON can hold."""
    event, payload = draw(st.sampled_from(BASES))
    payload = copy.deepcopy(payload)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        candidates = list(paths(payload))[1:]
        put(payload, draw(st.sampled_from(candidates)), draw(json_values))
    return event, payload


def nested(depth, opener="[", closer="]"):
    return (opener * depth + closer * depth).encode()


bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    mutated_deliveries().map(lambda d: json.dumps(d[1]).encode()),
    st.integers(min_value=1, max_value=200_000).map(nested),
    st.integers(min_value=1, max_value=5_000).map(lambda n: ('{"a":' * n + "1" + "}" * n).encode()),
    st.integers(min_value=1, max_value=20_000).map(
        lambda n: ('{"repository": {"full_name": "acme/erp", "id": 1' + "0" * n + "}}").encode()
    ),
    st.sampled_from(["utf-16", "utf-32", "latin-1", "utf-8-sig", "cp1252"]).map(
        lambda enc: json.dumps({"repository": {"full_name": "acme/érp"}, "x": "é"}, ensure_ascii=False).encode(enc)
    ),
)
content_types = st.one_of(
    st.sampled_from(
        [
            "application/json",
            "application/json; charset=utf-8",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "text/plain",
            "",
        ]
    ),
    st.text(max_size=30),
)
header_text = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=255), max_size=70),
    st.sampled_from(["workflow_run", "push", "ping", "²", "¹²³", "9" * 30, "4242", " 12 ", GUID]),
)
