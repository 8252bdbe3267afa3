"""Build GitHub webhook payloads and REST objects in GitHub's documented format.

Tests and benchmarks use these next to the published examples in
``../shared/fixtures/github-webhooks`` so the suite stays meaningful where
that folder is absent. Field names and nesting follow GitHub's webhook and
REST documentation (``workflow_run``, ``workflow_job``, ``push``,
``pull_request``, ``ping``).
"""

import itertools
import zlib
from datetime import datetime, timedelta, timezone

from . import contracts

_ids = itertools.count(7_000_000_000)
EPOCH = datetime(2026, 11, 2, 9, 0, 0, tzinfo=timezone.utc)


def _as_is(_event, payload):
    return payload


def checked(event, payload):
    """``payload``, once validated against GitHub's published schema of ``event`` (when installed).

    A builder that drifts from GitHub's format fails the test that called it, naming the event and the field
    (see :mod:`.contracts`).
    """
    return contracts.check_webhook(event, payload)


def next_id():
    return next(_ids)


def ts(moment):
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def user(login="octocat", uid=583231, kind=None, api_url="https://api.github.com"):
    """A user (or bot, or organization as an owner) as GitHub embeds it in payloads and REST objects."""
    base = f"{api_url}/users/{login}"
    return {
        "login": login,
        "id": uid,
        "node_id": "MDQ6VXNlcjU4MzIzMQ==",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{uid}?v=4",
        "gravatar_id": "",
        "url": base,
        "html_url": f"https://github.com/{login}",
        "followers_url": f"{base}/followers",
        "following_url": f"{base}/following{{/other_user}}",
        "gists_url": f"{base}/gists{{/gist_id}}",
        "starred_url": f"{base}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{base}/subscriptions",
        "organizations_url": f"{base}/orgs",
        "repos_url": f"{base}/repos",
        "events_url": f"{base}/events{{/privacy}}",
        "received_events_url": f"{base}/received_events",
        "type": kind or ("Bot" if login.endswith("[bot]") else "User"),
        "site_admin": False,
    }


def organization(login="acme", org_id=6811672, api_url="https://api.github.com"):
    """An organization as webhook payloads of organization hooks carry it."""
    base = f"{api_url}/orgs/{login}"
    return {
        "login": login,
        "id": org_id,
        "node_id": "MDEyOk9yZ2FuaXphdGlvbjY4MTE2NzI=",
        "url": base,
        "repos_url": f"{base}/repos",
        "events_url": f"{base}/events",
        "hooks_url": f"{base}/hooks",
        "issues_url": f"{base}/issues",
        "members_url": f"{base}/members{{/member}}",
        "public_members_url": f"{base}/public_members{{/member}}",
        "avatar_url": f"https://avatars.githubusercontent.com/u/{org_id}?v=4",
        "description": None,
    }


def repository_id(full_name):
    """A stable id per repository (GitHub's ids are per repository; names compare without case)."""
    return zlib.crc32(full_name.lower().encode()) % 900_000_000 + 100_000_000


_REPO_URLS = (
    ("forks_url", "/forks"),
    ("keys_url", "/keys{/key_id}"),
    ("collaborators_url", "/collaborators{/collaborator}"),
    ("teams_url", "/teams"),
    ("hooks_url", "/hooks"),
    ("issue_events_url", "/issues/events{/number}"),
    ("events_url", "/events"),
    ("assignees_url", "/assignees{/user}"),
    ("branches_url", "/branches{/branch}"),
    ("tags_url", "/tags"),
    ("blobs_url", "/git/blobs{/sha}"),
    ("git_tags_url", "/git/tags{/sha}"),
    ("git_refs_url", "/git/refs{/sha}"),
    ("trees_url", "/git/trees{/sha}"),
    ("statuses_url", "/statuses/{sha}"),
    ("languages_url", "/languages"),
    ("stargazers_url", "/stargazers"),
    ("contributors_url", "/contributors"),
    ("subscribers_url", "/subscribers"),
    ("subscription_url", "/subscription"),
    ("commits_url", "/commits{/sha}"),
    ("git_commits_url", "/git/commits{/sha}"),
    ("comments_url", "/comments{/number}"),
    ("issue_comment_url", "/issues/comments{/number}"),
    ("contents_url", "/contents/{+path}"),
    ("compare_url", "/compare/{base}...{head}"),
    ("merges_url", "/merges"),
    ("archive_url", "/{archive_format}{/ref}"),
    ("downloads_url", "/downloads"),
    ("issues_url", "/issues{/number}"),
    ("pulls_url", "/pulls{/number}"),
    ("milestones_url", "/milestones{/number}"),
    ("notifications_url", "/notifications{?since,all,participating}"),
    ("labels_url", "/labels{/name}"),
    ("releases_url", "/releases{/id}"),
    ("deployments_url", "/deployments"),
)


def repository_lite(full_name, repo_id=None, api_url="https://api.github.com"):
    """A repository as GitHub embeds it in workflow runs (``repository-lite`` / ``minimal-repository``)."""
    owner, name = full_name.split("/")
    base = f"{api_url}/repos/{full_name}"
    data = {
        "id": repo_id or repository_id(full_name),
        "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
        "name": name,
        "full_name": full_name,
        "private": False,
        "owner": user(owner, api_url=api_url),
        "html_url": f"https://github.com/{full_name}",
        "description": None,
        "fork": False,
        "url": base,
    }
    data.update({key: base + suffix for key, suffix in _REPO_URLS})
    return data


def repository(full_name, repo_id=None, api_url="https://api.github.com", default_branch="main"):
    """A repository as webhook payloads carry it (every field GitHub's webhook schema requires)."""
    data = repository_lite(full_name, repo_id, api_url)
    data.update(
        {
            "created_at": ts(EPOCH - timedelta(days=700)),
            "updated_at": ts(EPOCH - timedelta(days=1)),
            "pushed_at": ts(EPOCH - timedelta(hours=1)),
            "git_url": f"git://github.com/{full_name}.git",
            "ssh_url": f"git@github.com:{full_name}.git",
            "clone_url": f"https://github.com/{full_name}.git",
            "svn_url": f"https://github.com/{full_name}",
            "homepage": None,
            "size": 1024,
            "stargazers_count": 0,
            "watchers_count": 0,
            "language": "Python",
            "has_issues": True,
            "has_projects": True,
            "has_downloads": True,
            "has_wiki": False,
            "has_pages": False,
            "has_discussions": False,
            "forks_count": 0,
            "mirror_url": None,
            "archived": False,
            "disabled": False,
            "open_issues_count": 0,
            "license": None,
            "forks": 0,
            "open_issues": 0,
            "watchers": 0,
            "default_branch": default_branch,
            "is_template": False,
            "web_commit_signoff_required": False,
            "topics": [],
            "visibility": "public",
            "custom_properties": {},
        }
    )
    return data


def rest_repository(full_name, repo_id=None, api_url="https://api.github.com", default_branch="main"):
    """A repository as ``GET /repos/{owner}/{repo}`` answers (``full-repository``)."""
    data = repository(full_name, repo_id, api_url, default_branch)
    data.update({"network_count": 0, "subscribers_count": 0})
    return data


def commit_simple(sha, message="Update CI", moment=EPOCH, author="octocat"):
    """A head commit as workflow runs embed it."""
    person = {"name": author, "email": f"{author}@example.com"}
    return {
        "id": sha,
        "tree_id": sha,
        "message": message,
        "timestamp": ts(moment),
        "author": person,
        "committer": person,
    }


def workflow_run(
    full_name,
    run_id=None,
    status="completed",
    conclusion="success",
    name="CI",
    path=".github/workflows/ci.yml",
    event="push",
    branch="main",
    sha="a" * 40,
    run_attempt=1,
    run_number=1,
    started=EPOCH,
    updated=None,
    actor="octocat",
    api_url="https://api.github.com",
    pull_requests=(),
):
    """A workflow run, valid both as ``GET .../actions/runs/{id}`` answers it and as webhooks carry it."""
    run_id = run_id or next_id()
    updated = updated or (started + timedelta(minutes=4) if status == "completed" else started)
    base = f"{api_url}/repos/{full_name}/actions/runs/{run_id}"
    repo = repository_lite(full_name, api_url=api_url)
    return {
        "id": run_id,
        "name": name,
        "node_id": "WFR_kwLOBk",
        "head_branch": branch,
        "head_sha": sha,
        "path": path,
        "display_title": f"{name} on {branch}",
        "run_number": run_number,
        "event": event,
        "status": status,
        "conclusion": conclusion if status == "completed" else None,
        "workflow_id": 161335,
        "check_suite_id": run_id + 1,
        "check_suite_node_id": "CS_kwDOBk",
        "url": base,
        "html_url": f"https://github.com/{full_name}/actions/runs/{run_id}",
        "pull_requests": [
            {
                "url": f"{api_url}/repos/{full_name}/pulls/{n}",
                "id": n * 10,
                "number": n,
                "head": {
                    "ref": "feature",
                    "sha": sha,
                    "repo": {"id": repo["id"], "url": repo["url"], "name": repo["name"]},
                },
                "base": {
                    "ref": "main",
                    "sha": "d" * 40,
                    "repo": {"id": repo["id"], "url": repo["url"], "name": repo["name"]},
                },
            }
            for n in pull_requests
        ],
        "created_at": ts(started),
        "updated_at": ts(updated),
        "actor": user(actor, api_url=api_url),
        "triggering_actor": user(actor, api_url=api_url),
        "run_attempt": run_attempt,
        "run_started_at": ts(started),
        "jobs_url": f"{base}/jobs",
        "logs_url": f"{base}/logs",
        "check_suite_url": f"{api_url}/repos/{full_name}/check-suites/{run_id + 1}",
        "artifacts_url": f"{base}/artifacts",
        "cancel_url": f"{base}/cancel",
        "rerun_url": f"{base}/rerun",
        "previous_attempt_url": f"{base}/attempts/{run_attempt - 1}" if run_attempt > 1 else None,
        "workflow_url": f"{api_url}/repos/{full_name}/actions/workflows/161335",
        "head_commit": commit_simple(sha, moment=started),
        "repository": repo,
        "head_repository": repo,
    }


def step(number, name, conclusion="success", status="completed", started=EPOCH, seconds=5):
    """A job's step; a queued step has not started (GitHub's schema: ``started_at`` null)."""
    return {
        "name": name,
        "status": status,
        "conclusion": conclusion if status == "completed" else None,
        "number": number,
        "started_at": ts(started) if status != "queued" else None,
        "completed_at": ts(started + timedelta(seconds=seconds)) if status == "completed" else None,
    }


def workflow_job(
    full_name,
    run_id,
    job_id=None,
    status="completed",
    conclusion="success",
    name="test",
    workflow_name="CI",
    branch="main",
    sha="a" * 40,
    run_attempt=1,
    started=EPOCH,
    seconds=180,
    steps=None,
    api_url="https://api.github.com",
):
    job_id = job_id or next_id()
    if steps is None:
        failing = conclusion if status == "completed" else "success"
        steps = [
            step(1, "Set up job", started=started),
            step(2, "Run actions/checkout@v4", started=started),
            step(3, "Run tests", conclusion=failing, status=status, started=started, seconds=seconds - 20),
        ]
    return {
        "id": job_id,
        "run_id": run_id,
        "run_url": f"{api_url}/repos/{full_name}/actions/runs/{run_id}",
        "run_attempt": run_attempt,
        "node_id": "CR_kwDOBk",
        "head_sha": sha,
        "head_branch": branch,
        "url": f"{api_url}/repos/{full_name}/actions/jobs/{job_id}",
        "html_url": f"https://github.com/{full_name}/actions/runs/{run_id}/job/{job_id}",
        "status": status,
        "conclusion": conclusion if status == "completed" else None,
        "created_at": ts(started),
        "started_at": ts(started),
        "completed_at": ts(started + timedelta(seconds=seconds)) if status == "completed" else None,
        "name": name,
        "steps": steps,
        "check_run_url": f"{api_url}/repos/{full_name}/check-runs/{job_id}",
        "labels": ["ubuntu-latest"],
        "runner_id": 5,
        "runner_name": "GitHub Actions 5",
        "runner_group_id": 2,
        "runner_group_name": "GitHub Actions",
        "workflow_name": workflow_name,
    }


def workflow(
    name="CI",
    path=".github/workflows/ci.yml",
    full_name="acme/erp",
    workflow_id=161335,
    api_url="https://api.github.com",
):
    """A workflow, as ``workflow_run`` deliveries and the workflows API give it."""
    return {
        "id": workflow_id,
        "node_id": "W_kwDOBk",
        "name": name,
        "path": path,
        "state": "active",
        "created_at": ts(EPOCH - timedelta(days=300)),
        "updated_at": ts(EPOCH - timedelta(days=3)),
        "url": f"{api_url}/repos/{full_name}/actions/workflows/{workflow_id}",
        "html_url": f"https://github.com/{full_name}/blob/main/{path}",
        "badge_url": f"https://github.com/{full_name}/workflows/{name.replace(' ', '%20')}/badge.svg",
    }


def workflow_run_event(full_name, action=None, off_contract=False, **run):
    """``off_contract``: a value GitHub does not document yet (a new conclusion), on purpose: not validated."""
    run_obj = workflow_run(full_name, **run)
    action = action or {"completed": "completed", "in_progress": "in_progress"}.get(run_obj["status"], "requested")
    return (checked if not off_contract else _as_is)(
        "workflow_run",
        {
            "action": action,
            "workflow_run": run_obj,
            "workflow": workflow(run_obj["name"], run_obj["path"], full_name),
            "repository": repository(full_name),
            "sender": user(),
        },
    )


def workflow_job_event(full_name, run_id, action=None, **job):
    job_obj = workflow_job(full_name, run_id, **job)
    action = action or {"completed": "completed", "in_progress": "in_progress"}.get(job_obj["status"], "queued")
    return checked(
        "workflow_job",
        {"action": action, "workflow_job": job_obj, "repository": repository(full_name), "sender": user()},
    )


def push_event(full_name, ref="refs/heads/main", commits=(), before="0" * 40, after="b" * 40, pusher="octocat"):
    commit_objs = []
    for index, files in enumerate(commits):
        sha = f"{index + 1:040x}"
        commit_objs.append(
            {
                "id": sha,
                "tree_id": sha,
                "distinct": True,
                "message": files.get("message", f"commit {index + 1}"),
                "timestamp": ts(EPOCH + timedelta(minutes=index)),
                "url": f"https://github.com/{full_name}/commit/{sha}",
                "author": {"name": pusher, "email": f"{pusher}@example.com", "username": pusher},
                "committer": {"name": pusher, "email": f"{pusher}@example.com", "username": pusher},
                "added": list(files.get("added", ())),
                "removed": list(files.get("removed", ())),
                "modified": list(files.get("modified", ())),
            }
        )
    return checked(
        "push",
        {
            "ref": ref,
            "before": before,
            "after": after,
            "created": before == "0" * 40,
            "deleted": False,
            "forced": False,
            "base_ref": None,
            "compare": f"https://github.com/{full_name}/compare/{before[:12]}...{after[:12]}",
            "commits": commit_objs,
            "head_commit": commit_objs[-1] if commit_objs else None,
            "repository": repository(full_name),
            "pusher": {"name": pusher, "email": f"{pusher}@example.com"},
            "sender": user(pusher),
        },
    )


def _branch(full_name, ref, sha):
    owner = full_name.split("/")[0]
    return {"label": f"{owner}:{ref}", "ref": ref, "sha": sha, "user": user(owner), "repo": repository(full_name)}


def pull_request_event(
    full_name,
    number=1,
    action="opened",
    title="Add a feature",
    state="open",
    head_ref="feature",
    head_sha="c" * 40,
    base_ref="main",
    head_full_name=None,
    merged=False,
    author="octocat",
    updated=EPOCH,
):
    head_full_name = head_full_name or full_name
    api = f"https://api.github.com/repos/{full_name}"
    url = f"{api}/pulls/{number}"
    html = f"https://github.com/{full_name}/pull/{number}"
    moved = {"before": "f" * 40, "after": head_sha} if action == "synchronize" else {}
    return checked(
        "pull_request",
        {
            **moved,
            "action": action,
            "number": number,
            "pull_request": {
                "url": url,
                "id": 1000 + number,
                "node_id": f"PR_kwDOBk{number}",
                "html_url": html,
                "diff_url": f"{html}.diff",
                "patch_url": f"{html}.patch",
                "issue_url": f"{api}/issues/{number}",
                "number": number,
                "state": state,
                "locked": False,
                "title": title,
                "user": user(author),
                "body": "Please pull these awesome changes",
                "created_at": ts(EPOCH),
                "updated_at": ts(updated),
                "closed_at": ts(updated) if state == "closed" else None,
                "merged_at": ts(updated) if merged else None,
                "merge_commit_sha": "e" * 40 if merged else None,
                "assignee": None,
                "assignees": [],
                "requested_reviewers": [],
                "requested_teams": [],
                "labels": [],
                "milestone": None,
                "draft": False,
                "commits_url": f"{url}/commits",
                "review_comments_url": f"{url}/comments",
                "review_comment_url": f"{api}/pulls/comments{{/number}}",
                "comments_url": f"{api}/issues/{number}/comments",
                "statuses_url": f"{api}/statuses/{head_sha}",
                "head": _branch(head_full_name, head_ref, head_sha),
                "base": _branch(full_name, base_ref, "d" * 40),
                "_links": {
                    "self": {"href": url},
                    "html": {"href": html},
                    "issue": {"href": f"{api}/issues/{number}"},
                    "comments": {"href": f"{api}/issues/{number}/comments"},
                    "review_comments": {"href": f"{url}/comments"},
                    "review_comment": {"href": f"{api}/pulls/comments{{/number}}"},
                    "commits": {"href": f"{url}/commits"},
                    "statuses": {"href": f"{api}/statuses/{head_sha}"},
                },
                "author_association": "OWNER",
                "auto_merge": None,
                "active_lock_reason": None,
                "merged": merged,
                "mergeable": None,
                "rebaseable": None,
                "mergeable_state": "unknown",
                "merged_by": user(author) if merged else None,
                "comments": 0,
                "review_comments": 0,
                "maintainer_can_modify": False,
                "commits": 1,
                "additions": 10,
                "deletions": 2,
                "changed_files": 3,
            },
            "repository": repository(full_name),
            "sender": user(author),
        },
    )


def ping_event(full_name, hook_id=4242, url="https://erp.example.com/ops/github/webhook", organization_hook=False):
    """The ``ping`` GitHub sends when a hook is created: a repository's hook, or its owner's organization hook.

    An organization hook's ping names the organization and no repository.
    """
    owner = full_name.split("/")[0]
    base = f"https://api.github.com/orgs/{owner}" if organization_hook else f"https://api.github.com/repos/{full_name}"
    payload = {
        "zen": "Keep it logically awesome.",
        "hook_id": hook_id,
        "hook": {
            "type": "Organization" if organization_hook else "Repository",
            "id": hook_id,
            "name": "web",
            "active": True,
            "events": ["workflow_run", "workflow_job", "check_run", "push", "pull_request"],
            "config": {"content_type": "json", "url": url, "insecure_ssl": "0"},
            "updated_at": ts(EPOCH),
            "created_at": ts(EPOCH),
            "url": f"{base}/hooks/{hook_id}",
            "ping_url": f"{base}/hooks/{hook_id}/pings",
            "deliveries_url": f"{base}/hooks/{hook_id}/deliveries",
        },
        "sender": user(),
    }
    if organization_hook:
        payload["organization"] = organization(owner)
    else:
        payload["repository"] = repository(full_name)
    return checked("ping", payload)


def projects_v2_item_event(org="acme", action="edited", item_id=None):
    """A ``projects_v2_item`` delivery: an organization-level event that names no repository."""
    payload = {
        "action": action,
        "projects_v2_item": {
            "id": item_id or next_id() % 100_000_000,
            "node_id": "PVTI_lADOAbcd1234",
            "project_node_id": "PVT_kwDOAbcd1234",
            "content_node_id": "I_kwDOAbcd1234",
            "content_type": "Issue",
            "creator": user(),
            "created_at": ts(EPOCH),
            "updated_at": ts(EPOCH + timedelta(minutes=5)),
            "archived_at": None,
        },
        "organization": organization(org),
        "sender": user(),
    }
    if action == "edited":
        payload["changes"] = {"field_value": {"field_type": "single_select", "field_node_id": "PVTSSF_lADOAbcd"}}
    return checked("projects_v2_item", payload)


# --------------------------------------------------------------------------
# REST objects the fake GitHub answers with (the shapes of GitHub's OpenAPI description)
# --------------------------------------------------------------------------

DOCS = "https://docs.github.com/rest"


def validation_failed(message="Validation Failed", errors=(), field=None, code="invalid"):
    """A 422 body (``validation-error``): ``errors`` as GitHub lists them, each with its ``code``."""
    items = [dict(item) if isinstance(item, dict) else {"code": "custom", "message": str(item)} for item in errors]
    if field:
        items.append({"resource": "Issue", "field": field, "code": code})
    body = {"message": message, "documentation_url": DOCS, "status": "422"}
    if items:
        body["errors"] = [dict({"code": "custom"}, **item) for item in items]
    return body


def error(message, status):
    """A ``basic-error`` body."""
    return {"message": message, "documentation_url": DOCS, "status": str(status)}


def app(slug="github-actions", app_id=15368):
    """A GitHub App (``integration``) as check runs and suites name it."""
    return {
        "id": app_id,
        "slug": slug,
        "node_id": "MDM6QXBwMTUzNjg=",
        "owner": user("github", kind="Organization"),
        "name": slug.replace("-", " ").title(),
        "description": "Automate your workflow",
        "external_url": "https://help.github.com/en/actions",
        "html_url": f"https://github.com/apps/{slug}",
        "created_at": ts(EPOCH - timedelta(days=2000)),
        "updated_at": ts(EPOCH - timedelta(days=100)),
        "permissions": {"actions": "write", "checks": "write", "contents": "write"},
        "events": ["check_run", "check_suite", "workflow_run"],
    }


def git_person(name="dev", moment=EPOCH):
    return {"name": name, "email": f"{name}@example.com", "date": ts(moment)}


def rest_commit(full_name, sha, message, parents=(), files=None, api_url="https://api.github.com", moment=EPOCH):
    """A commit as ``GET /repos/{owner}/{repo}/commits/{ref}`` answers (``commit``)."""
    base = f"{api_url}/repos/{full_name}"
    data = {
        "sha": sha,
        "node_id": "C_" + sha[:12],
        "url": f"{base}/commits/{sha}",
        "html_url": f"https://github.com/{full_name}/commit/{sha}",
        "comments_url": f"{base}/commits/{sha}/comments",
        "commit": {
            "url": f"{base}/git/commits/{sha}",
            "message": message,
            "author": git_person(moment=moment),
            "committer": git_person(moment=moment),
            "tree": {"sha": sha, "url": f"{base}/git/trees/{sha}"},
            "comment_count": 0,
            "verification": {
                "verified": False,
                "reason": "unsigned",
                "signature": None,
                "payload": None,
                "verified_at": None,
            },
        },
        "author": user("dev", api_url=api_url),
        "committer": user("dev", api_url=api_url),
        "parents": [
            {"sha": p, "url": f"{base}/commits/{p}", "html_url": f"https://github.com/{full_name}/commit/{p}"}
            for p in parents
        ],
    }
    if files is not None:
        data["files"] = files
        data["stats"] = {
            "additions": sum(f["additions"] for f in files),
            "deletions": sum(f["deletions"] for f in files),
            "total": sum(f["changes"] for f in files),
        }
    return data


def label(name, label_id, full_name="acme/erp", api_url="https://api.github.com"):
    return {
        "id": label_id,
        "node_id": f"LA_{label_id}",
        "url": f"{api_url}/repos/{full_name}/labels/{name}",
        "name": name,
        "description": f"{name} (label)",
        "color": "ededed",
        "default": False,
    }


def pull_links(api_base, html, number, head_sha):
    url = f"{api_base}/pulls/{number}"
    return {
        "self": {"href": url},
        "html": {"href": html},
        "issue": {"href": f"{api_base}/issues/{number}"},
        "comments": {"href": f"{api_base}/issues/{number}/comments"},
        "review_comments": {"href": f"{url}/comments"},
        "review_comment": {"href": f"{api_base}/pulls/comments{{/number}}"},
        "commits": {"href": f"{url}/commits"},
        "statuses": {"href": f"{api_base}/statuses/{head_sha}"},
    }


# --------------------------------------------------------------------------
# deployments
# --------------------------------------------------------------------------
#: the keys a ``deployment``/``deployment_status`` delivery embeds of the workflow run that deploys
_DEPLOYMENT_RUN_KEYS = (
    "id", "name", "node_id", "head_branch", "head_sha", "run_number", "event", "status", "conclusion", "workflow_id",
    "check_suite_id", "check_suite_node_id", "url", "html_url", "pull_requests", "created_at", "updated_at", "actor",
    "triggering_actor", "run_attempt", "run_started_at", "path", "display_title",
)  # fmt: skip


def deployment(
    full_name,
    deployment_id=None,
    sha="a" * 40,
    ref="main",
    environment="production",
    task="deploy",
    description=None,
    creator="octocat",
    created=EPOCH,
    updated=None,
    production=None,
    transient=False,
    payload=None,
    api_url="https://api.github.com",
):
    """A deployment, as ``GET /repos/{owner}/{repo}/deployments/{id}`` answers and webhooks embed it."""
    deployment_id = deployment_id or next_id()
    url = f"{api_url}/repos/{full_name}/deployments/{deployment_id}"
    return {
        "url": url,
        "id": deployment_id,
        "node_id": f"DE_kwDO{deployment_id}",
        "sha": sha,
        "ref": ref,
        "task": task,
        "payload": payload or {},
        "original_environment": environment,
        "environment": environment,
        "description": description,
        "creator": user(creator, api_url=api_url),
        "created_at": ts(created),
        "updated_at": ts(updated or created),
        "statuses_url": f"{url}/statuses",
        "repository_url": f"{api_url}/repos/{full_name}",
        "transient_environment": transient,
        "production_environment": environment == "production" if production is None else production,
        "performed_via_github_app": None,
    }


def deployment_status(
    full_name,
    deployment_id,
    state="success",
    status_id=None,
    environment="production",
    description="",
    created=EPOCH,
    creator="octocat",
    environment_url="",
    log_url=None,
    api_url="https://api.github.com",
):
    """A deployment status, as ``GET .../deployments/{id}/statuses`` lists it and webhooks embed it."""
    status_id = status_id or next_id()
    deployment_url = f"{api_url}/repos/{full_name}/deployments/{deployment_id}"
    log_url = log_url or f"https://github.com/{full_name}/actions/runs/{deployment_id}"
    data = {
        "url": f"{deployment_url}/statuses/{status_id}",
        "id": status_id,
        "node_id": f"DES_kwDO{status_id}",
        "state": state,
        "creator": user(creator, api_url=api_url),
        "description": description,
        "environment": environment,
        "target_url": log_url,
        "created_at": ts(created),
        "updated_at": ts(created),
        "deployment_url": deployment_url,
        "repository_url": f"{api_url}/repos/{full_name}",
        "log_url": log_url,
        "performed_via_github_app": None,
    }
    if environment_url:  # GitHub sends "" too, which the published schema's oneOf cannot tell from a URI
        data["environment_url"] = environment_url
    return data


def deployment_workflow_run(full_name, **run):
    """The workflow run as ``deployment`` and ``deployment_status`` deliveries embed it (fewer keys)."""
    run_obj = workflow_run(full_name, **run)
    return {key: run_obj[key] for key in _DEPLOYMENT_RUN_KEYS}


def deployment_event(full_name, run=None, **fields):
    """A ``deployment`` delivery (action ``created``); ``run``: the workflow run's fields when one deploys."""
    run_obj = deployment_workflow_run(full_name, **run) if run is not None else None
    return checked(
        "deployment",
        {
            "action": "created",
            "deployment": deployment(full_name, **fields),
            "workflow": workflow(run_obj["name"], run_obj["path"], full_name) if run_obj else None,
            "workflow_run": run_obj,
            "repository": repository(full_name),
            "sender": user(fields.get("creator", "octocat")),
        },
    )


def deployment_status_event(full_name, deployment_obj, state="success", run=None, off_contract=False, **status):
    """A ``deployment_status`` delivery for ``deployment_obj`` (a :func:`deployment`).

    GitHub's webhook schema does not list ``inactive``, which the REST API sets on replaced deployments:
    pass ``off_contract=True`` to build one anyway.
    """
    status.setdefault("environment", deployment_obj["environment"])
    payload = {
        "action": "created",
        "deployment_status": deployment_status(full_name, deployment_obj["id"], state=state, **status),
        "deployment": deployment_obj,
        "repository": repository(full_name),
        "sender": user(),
    }
    if run is not None:
        payload["workflow_run"] = deployment_workflow_run(full_name, **run)
    return (checked if not off_contract else _as_is)("deployment_status", payload)
