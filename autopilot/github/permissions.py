"""Which features a repository's API token can serve, as GitHub tells it.

Each feature needs GitHub permissions (:data:`FEATURES`: the fine-grained
permissions, as GitHub names them in ``X-Accepted-GitHub-Permissions``, and
the classic scopes that grant them). A token cannot be asked what it may do
in general, so :func:`check_token` finds out what it can without changing
anything on GitHub:

- a **classic** token (or an OAuth token) is described by the
  ``X-OAuth-Scopes`` header of any answer: every feature is ``ok`` or
  ``missing`` from that alone;
- a **fine-grained** token (or a GitHub App's) is not: each feature's
  read-only request is made, and a refusal (403) names the permission in
  ``X-Accepted-GitHub-Permissions``. A write permission cannot be tried
  without writing, so a feature that writes stays ``unchecked`` until it is
  first used; then a refusal names what is missing (:func:`rest_api.from_github`).
"""

from dataclasses import dataclass

from github import GithubException

from ..common.errors import ServiceError
from . import rest_api

#: results of a check, best first
STATES = ("ok", "unchecked", "missing", "not_applicable", "error")


@dataclass(frozen=True)
class Feature:
    key: str
    label: str
    #: fine-grained permissions it needs, all of them (``"actions=write"``)
    permissions: tuple
    #: classic scopes that grant it, any one
    scopes: tuple
    #: a read-only request showing whether the token may read what the feature needs (``{repo}``, ``{hook}``,
    #: ``{org}`` filled in); None when there is none
    probe: str | None = None
    #: whether the feature writes (a fine-grained token's write access cannot be checked without writing)
    writes: bool = False
    #: ``"repository"`` or ``"organization"``: which hook it reads, when it needs one
    hook: str = ""


_REPO = ("repo",)
FEATURES = (
    Feature("sync", "Sync runs and jobs", ("actions=read",), _REPO, "/repos/{repo}/actions/runs?per_page=1"),
    Feature(
        "deliveries",
        "Read the hook's deliveries and ask for redeliveries",
        ("repository_hooks=write",),
        ("repo", "admin:repo_hook", "write:repo_hook"),
        "/repos/{repo}/hooks/{hook}/deliveries?per_page=1",
        writes=True,
        hook="repository",
    ),
    Feature(
        "org_deliveries",
        "Read the organization hook's deliveries and ask for redeliveries",
        ("organization_hooks=write",),
        ("admin:org_hook",),
        "/orgs/{org}/hooks/{hook}/deliveries?per_page=1",
        writes=True,
        hook="organization",
    ),
    Feature("reruns", "Re-run failed jobs, dispatch workflows", ("actions=write",), _REPO, writes=True),
    Feature(
        "contents",
        "Read files, archives and the dependency graph (scans, reviews)",
        ("contents=read",),
        _REPO,
        "/repos/{repo}/commits?per_page=1",
    ),
    Feature(
        "issues", "Open issues and comment on them", ("issues=write",), _REPO, "/repos/{repo}/issues?per_page=1", True
    ),
    Feature(
        "pull_requests",
        "Open update and fix pull requests, comment on reviews",
        ("contents=write", "pull_requests=write"),
        _REPO,
        "/repos/{repo}/pulls?per_page=1",
        writes=True,
    ),
)
BY_KEY = {feature.key: feature for feature in FEATURES}


@dataclass(frozen=True)
class FeatureCheck:
    feature: str
    #: one of :data:`STATES`
    state: str
    detail: str = ""


def _scopes(headers):
    lowered = {str(k).lower(): v for k, v in (headers or {}).items()}
    if "x-oauth-scopes" not in lowered:
        return None
    return {scope.strip() for scope in str(lowered["x-oauth-scopes"]).split(",") if scope.strip()}


def _by_scopes(feature, scopes, private):
    granted = set(feature.scopes)
    if "repo" in granted and not private:
        granted.add("public_repo")  # public_repo grants the repository scope's rights on public repositories
    if scopes & granted:
        return FeatureCheck(feature.key, "ok", f"scope {sorted(scopes & granted)[0]}")
    return FeatureCheck(feature.key, "missing", f"needs one of the scopes {', '.join(feature.scopes)}")


def _by_probe(client, feature, path):
    try:
        client.requester.requestJsonAndCheck("GET", path)
    except GithubException as exc:
        accepted = rest_api.accepted_permissions(exc.headers)
        if exc.status == 403 and accepted:
            wanted = " or ".join(", ".join(alternative) for alternative in accepted)
            return FeatureCheck(feature.key, "missing", f"needs {wanted}")
        if exc.status == 404 and feature.hook:
            return FeatureCheck(
                feature.key, "missing", f"hook not found, or not readable: needs {feature.permissions[0]}"
            )
        return FeatureCheck(feature.key, "error", rest_api.describe_error(exc))
    if feature.writes:
        return FeatureCheck(feature.key, "unchecked", f"reads; writing needs {', '.join(feature.permissions)}")
    return FeatureCheck(feature.key, "ok")


def check_token(client, full_name, hook_id=None, organization_hook=False):
    """One :class:`FeatureCheck` per feature of :data:`FEATURES`, without changing anything on GitHub.

    Raises :class:`~..common.errors.ServiceError` when the repository itself
    cannot be read (bad credentials, unknown repository, GitHub down).
    """
    try:
        headers, repo = client.requester.requestJsonAndCheck("GET", f"/repos/{full_name}")
    except rest_api.TRANSIENT_ERRORS as exc:
        raise rest_api.from_github(exc) from None
    scopes = _scopes(headers)
    private = bool((repo or {}).get("private"))
    owner = full_name.split("/")[0]
    results = []
    for feature in FEATURES:
        if feature.hook and (not hook_id or (feature.hook == "organization") != bool(organization_hook)):
            results.append(FeatureCheck(feature.key, "not_applicable", "no such hook on this repository"))
        elif scopes is not None:
            results.append(_by_scopes(feature, scopes, private))
        elif feature.probe:
            path = feature.probe.format(repo=full_name, hook=int(hook_id or 0), org=owner)
            try:
                results.append(_by_probe(client, feature, path))
            except ServiceError as exc:
                results.append(FeatureCheck(feature.key, "error", str(exc)))
        else:
            results.append(FeatureCheck(feature.key, "unchecked", f"needs {', '.join(feature.permissions)}"))
    return results
