"""GitHub REST routes of self-healing CI, as a mixin over the scans/review FakeGitHub.

Adds to :class:`~.github_scans_server.ScanGitHub` (which already serves
issues, issue comments, labels, pulls and their files from an in-memory git,
and workflow dispatches)::

    GET  /repos/{o}/{r}/actions/jobs/{id}                  the job
    GET  /repos/{o}/{r}/actions/jobs/{id}/logs             302 to a signed plain-text URL (410 once expired)
    GET  {storage}/job-logs/{id}?sig=...                   the log text, on the storage host (no token accepted)
    POST /repos/{o}/{r}/actions/runs/{id}/rerun-failed-jobs   201; starts attempt n+1 (403 while running)
    POST /repos/{o}/{r}/actions/runs/{id}/rerun               201; re-runs every job

A re-run makes a new attempt of the run: status ``queued``, failed jobs
copied with new ids, passed jobs carried over, as GitHub lists them with
``filter=latest``. Tests then finish the attempt with
:meth:`GitHubCIMixin.complete_attempt`, which returns the webhook payloads
GitHub would send (``workflow_job`` then ``workflow_run``).

:class:`CIGitHub` is the ready combination.
"""

import itertools
import secrets
from datetime import datetime, timedelta, timezone

from . import github_payloads as gp
from .github_scans_server import ScanGitHub
from .http_server import Response

_REPO = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"


class GitHubCIMixin:
    """Job logs and re-runs on top of a FakeGitHub with runs and jobs."""

    def install_ci_routes(self):
        self.job_logs = {}  # job id -> bytes
        self.expired_logs = set()
        self.reruns = []  # (full_name, run_id, "failed" | "all")
        self._log_sigs = {}
        self._ci_ids = itertools.count(8_100_000_001)
        routes = (
            ("GET", _REPO + r"/actions/jobs/(?P<job_id>\d+)", self._get_job),
            ("GET", _REPO + r"/actions/jobs/(?P<job_id>\d+)/logs", self._job_logs),
            ("POST", _REPO + r"/actions/runs/(?P<run_id>\d+)/rerun-failed-jobs", self._rerun_failed),
            ("POST", _REPO + r"/actions/runs/(?P<run_id>\d+)/rerun", self._rerun_all),
        )
        for method, pattern, handler in routes:
            self.route(method, pattern, handler)
        self.storage.route("GET", r"/job-logs/(?P<job_id>\d+)", self._log_blob)

    # ------------------------------------------------------------------
    # data helpers for tests
    # ------------------------------------------------------------------
    def set_log(self, job_id, text):
        self.job_logs[int(job_id)] = text.encode() if isinstance(text, str) else bytes(text)

    def find_job(self, job_id):
        for (full_name, _run_id), jobs in self.jobs.items():
            for job in jobs:
                if job["id"] == int(job_id):
                    return full_name, job
        raise LookupError("job")

    def latest_jobs(self, full_name, run_id):
        jobs = self.jobs.get((full_name, int(run_id)), [])
        if not jobs:
            return []
        latest = max(j["run_attempt"] for j in jobs)
        return [j for j in jobs if j["run_attempt"] == latest]

    def complete_attempt(self, full_name, run_id, conclusion="success", job_conclusions=None, logs=None):
        """Finish the run's latest attempt; return ``[(event, payload), ...]`` GitHub would deliver.

        ``job_conclusions`` maps job names to conclusions (default: the queued
        jobs take ``conclusion``); ``logs`` maps job names to log text.
        """
        run = self.runs[full_name][int(run_id)]
        # later than anything the run did before, whatever the test machine's clock says
        earlier = [j["completed_at"] for j in self.jobs.get((full_name, int(run_id)), []) if j.get("completed_at")]
        finished = datetime.now(timezone.utc).replace(microsecond=0)
        if earlier:
            latest = datetime.strptime(max(earlier), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
            finished = max(finished, latest + timedelta(minutes=5))
        deliveries = []
        for job in self.latest_jobs(full_name, run_id):
            if job["status"] != "completed":
                job_conclusion = (job_conclusions or {}).get(job["name"], conclusion)
                job.update(
                    status="completed",
                    conclusion=job_conclusion,
                    started_at=gp.ts(finished - timedelta(minutes=2)),
                    completed_at=gp.ts(finished),
                )
                for step in job["steps"]:
                    step.update(status="completed", conclusion="success", completed_at=gp.ts(finished))
                if job_conclusion != "success" and job["steps"]:
                    job["steps"][-1]["conclusion"] = job_conclusion
            if logs and job["name"] in logs:
                self.set_log(job["id"], logs[job["name"]])
            deliveries.append(
                (
                    "workflow_job",
                    {
                        "action": "completed",
                        "workflow_job": dict(job),
                        "repository": gp.repository(full_name),
                        "sender": gp.user(),
                    },
                )
            )
        run.update(status="completed", conclusion=conclusion, updated_at=gp.ts(finished))
        deliveries.append(("workflow_run", self.run_event(full_name, run_id)))
        return deliveries

    def run_event(self, full_name, run_id, action="completed"):
        run = self.runs[full_name][int(run_id)]
        return {
            "action": action,
            "workflow_run": dict(run),
            "workflow": {"id": run.get("workflow_id", 161335), "name": run["name"], "path": run["path"]},
            "repository": gp.repository(full_name),
            "sender": gp.user(),
        }

    # ------------------------------------------------------------------
    # handlers
    # ------------------------------------------------------------------
    def _get_job(self, request):
        full_name = self._repo(request)
        owner, job = self.find_job(request.params["job_id"])
        if owner != full_name:
            raise LookupError("job")
        return Response(200, job)

    def _job_logs(self, request):
        full_name = self._repo(request)
        owner, job = self.find_job(request.params["job_id"])
        if owner != full_name or job["id"] not in self.job_logs:
            raise LookupError("job log")
        if job["id"] in self.expired_logs:
            return Response(410, {"message": "Gone: the logs of this job have expired"})
        sig = secrets.token_hex(8)
        self._log_sigs[job["id"]] = sig
        return Response(302, b"", {"Location": f"{self.storage.url}/job-logs/{job['id']}?sig={sig}"})

    def _log_blob(self, request):
        job_id = int(request.params["job_id"])
        if job_id not in self.job_logs:
            raise LookupError("blob")
        if request.arg("sig") != self._log_sigs.get(job_id):
            return Response(403, b"AuthenticationFailed", {"Content-Type": "text/plain"})
        return Response(200, self.job_logs[job_id], {"Content-Type": "text/plain; charset=utf-8"})

    def _new_attempt(self, full_name, run_id, only_failed):
        run = self.runs[full_name].get(int(run_id))
        if run is None:
            raise LookupError("run")
        if run["status"] != "completed":
            return Response(403, {"message": "This workflow run is not completed"})
        jobs = self.latest_jobs(full_name, run_id)
        if only_failed and not any(j["conclusion"] not in ("success", "skipped") for j in jobs):
            return Response(403, {"message": "This workflow run has no failed jobs to re-run"})
        attempt = run["run_attempt"] + 1
        started = datetime.now(timezone.utc).replace(microsecond=0)
        run.update(
            run_attempt=attempt,
            status="queued",
            conclusion=None,
            updated_at=gp.ts(started),
            run_started_at=gp.ts(started),
        )
        new_jobs = []
        for job in jobs:
            rerun = not only_failed or job["conclusion"] not in ("success", "skipped")
            copy = dict(job, run_attempt=attempt, steps=[dict(s) for s in job["steps"]])
            if rerun:
                job_id = next(self._ci_ids)
                copy.update(
                    id=job_id,
                    status="queued",
                    conclusion=None,
                    started_at=gp.ts(started),
                    completed_at=None,
                    url=f"{self.url}/repos/{full_name}/actions/jobs/{job_id}",
                    html_url=f"https://github.com/{full_name}/actions/runs/{run_id}/job/{job_id}",
                )
                for step in copy["steps"]:
                    step.update(status="queued", conclusion=None, completed_at=None)
            new_jobs.append(copy)
        self.jobs[(full_name, int(run_id))].extend(new_jobs)
        self.reruns.append((full_name, int(run_id), "failed" if only_failed else "all"))
        return Response(201, {})

    def _rerun_failed(self, request):
        return self._new_attempt(self._repo(request), request.params["run_id"], only_failed=True)

    def _rerun_all(self, request):
        return self._new_attempt(self._repo(request), request.params["run_id"], only_failed=False)


class CIGitHub(GitHubCIMixin, ScanGitHub):
    """FakeGitHub with the review, scan and self-healing CI routes installed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.install_ci_routes()

    def reset(self):
        result = super().reset()
        self.reset_review_state()
        for name in ("scan_issues", "tarballs", "artifacts", "artifact_zips", "sboms", "issue_labels", "workflows"):
            getattr(self, name).clear()
        self.dispatches.clear()
        self.job_logs.clear()
        self.expired_logs.clear()
        self.reruns.clear()
        self._log_sigs.clear()
        return result
