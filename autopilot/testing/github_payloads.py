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

_ids = itertools.count(7_000_000_000)
EPOCH = datetime(2026, 11, 2, 9, 0, 0, tzinfo=timezone.utc)


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


def repository(full_name, repo_id=None, api_url="https://api.github.com", default_branch="main"):
    owner, name = full_name.split("/")
    return {
        "id": repo_id or repository_id(full_name),
        "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
        "name": name,
        "full_name": full_name,
        "private": False,
        "owner": user(owner),
        "html_url": f"https://github.com/{full_name}",
        "url": f"{api_url}/repos/{full_name}",
        "default_branch": default_branch,
        "fork": False,
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
    run_id = run_id or next_id()
    updated = updated or (started + timedelta(minutes=4) if status == "completed" else started)
    base = f"{api_url}/repos/{full_name}/actions/runs/{run_id}"
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
        "url": base,
        "html_url": f"https://github.com/{full_name}/actions/runs/{run_id}",
        "pull_requests": [{"number": n, "id": n * 10} for n in pull_requests],
        "created_at": ts(started),
        "updated_at": ts(updated),
        "actor": user(actor),
        "triggering_actor": user(actor),
        "run_attempt": run_attempt,
        "run_started_at": ts(started),
        "jobs_url": f"{base}/jobs",
        "logs_url": f"{base}/logs",
        "rerun_url": f"{base}/rerun",
        "workflow_url": f"{api_url}/repos/{full_name}/actions/workflows/161335",
        "head_commit": {"id": sha, "message": "Update CI", "timestamp": ts(started)},
        "repository": {"id": repository_id(full_name), "full_name": full_name, "name": full_name.split("/")[1]},
    }


def step(number, name, conclusion="success", status="completed", started=EPOCH, seconds=5):
    return {
        "name": name,
        "status": status,
        "conclusion": conclusion if status == "completed" else None,
        "number": number,
        "started_at": ts(started),
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


def workflow_run_event(full_name, action=None, **run):
    run_obj = workflow_run(full_name, **run)
    action = action or {"completed": "completed", "in_progress": "in_progress"}.get(run_obj["status"], "requested")
    return {
        "action": action,
        "workflow_run": run_obj,
        "workflow": {"id": 161335, "name": run_obj["name"], "path": run_obj["path"], "state": "active"},
        "repository": repository(full_name),
        "sender": user(),
    }


def workflow_job_event(full_name, run_id, action=None, **job):
    job_obj = workflow_job(full_name, run_id, **job)
    action = action or {"completed": "completed", "in_progress": "in_progress"}.get(job_obj["status"], "queued")
    return {"action": action, "workflow_job": job_obj, "repository": repository(full_name), "sender": user()}


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
    return {
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
    }


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
    return {
        "action": action,
        "number": number,
        "pull_request": {
            "url": f"https://api.github.com/repos/{full_name}/pulls/{number}",
            "id": 1000 + number,
            "html_url": f"https://github.com/{full_name}/pull/{number}",
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
            "draft": False,
            "head": {"label": f"x:{head_ref}", "ref": head_ref, "sha": head_sha, "repo": repository(head_full_name)},
            "base": {"label": f"x:{base_ref}", "ref": base_ref, "sha": "d" * 40, "repo": repository(full_name)},
            "merged": merged,
            "commits": 1,
            "additions": 10,
            "deletions": 2,
            "changed_files": 3,
        },
        "repository": repository(full_name),
        "sender": user(author),
    }


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
    return payload


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
    return payload
