#!/usr/bin/env python3
"""Fault scenarios against real Odoo servers on a private PostgreSQL cluster.

Too heavy for the test suite (each needs its own cluster, an addon install
and server processes to restart or kill: minutes, not seconds), so they
live here and print PASS/FAIL with their figures:

``pg_restart``
    Signed deliveries are posted while the processing cron runs; PostgreSQL
    is restarted (``pg_ctl restart -m immediate``: a crash, then recovery) in
    the middle. Every delivery answered 2xx must be stored and processed
    exactly once afterwards; every other one is listed as failed by a local
    GitHub (its hook deliveries) and the sync cron's method must get GitHub to
    redeliver it, after which it is processed too.
``pg_crash_early_ack``
    The same crash for a repository whose delivery log on GitHub was checked,
    so deliveries are answered once committed, before PostgreSQL flushes them
    (faster traffic: 200/s). The crash may lose some acknowledged ones; the
    sync must then get every one of them back from GitHub's log, and every
    delivery is processed exactly once in the end.
``kill_worker``
    The cron worker process is killed with SIGKILL while it processes a batch.
    No half batch may be visible (processed deliveries a multiple of the batch
    size, no run or job without the processed delivery that made it), and the
    respawned worker finishes the queue: every delivery processed once.
``two_servers``
    Two Odoo servers, two cron threads each, on one database drain one
    queue: every delivery processed exactly once (Odoo runs the cron in one
    thread at a time, on whichever server locks it first), no ERROR in
    their logs; the deliveries each server processed are printed.

The machine's PostgreSQL is never touched: ``initdb`` from
``/usr/lib/postgresql/*/bin`` into a temporary directory, its own port,
trust authentication, removed at the end. Usage:
``python3 bench/faults/run.py [scenario ...]`` (all by default).
"""

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

import devenv  # noqa: E402
import psycopg2  # noqa: E402

from autopilot.github import signature  # noqa: E402
from autopilot.testing import github_payloads as gp  # noqa: E402
from autopilot.testing.github_server import FakeGitHub  # noqa: E402
from bench.webhook_ingest import run as ingest  # noqa: E402

DB = "ops_autopilot_faults"
CRON_XMLID = "ops_autopilot.ir_cron_process_webhook_deliveries"
RESULTS = ROOT / ".bench-results"


# ---------------------------------------------------------------------------
# a private PostgreSQL cluster
# ---------------------------------------------------------------------------
class PrivateCluster:
    """``initdb`` + ``pg_ctl`` in a temporary directory, listening on 127.0.0.1:<own port>."""

    def __init__(self):
        bins = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
        if not bins:
            raise SystemExit("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
        self.bin = bins[-1].parent
        self.dir = Path(tempfile.mkdtemp(prefix="ops-faults-pg-"))
        self.data = self.dir / "data"
        self.port = devenv.free_port()
        # PostgreSQL refuses to run as root: run its programs as the postgres account then
        self.prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.prefix:
            shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, *args):
        subprocess.run([*self.prefix, *args], check=True, stdout=subprocess.DEVNULL)

    def start(self):
        if not self.data.exists():
            self._run(
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "root",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            )
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.dir / "pg.log"), "-w", "start"
        )
        os.environ.update(PGHOST="127.0.0.1", PGPORT=str(self.port), PGUSER="root")

    def restart(self, mode="immediate"):
        """Stop (``immediate``: every backend killed, crash recovery at start) and start again."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")
        self.start()

    def stop(self):
        if self.data.exists():
            subprocess.run(
                [*self.prefix, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"],
                check=False,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        shutil.rmtree(self.dir, ignore_errors=True)


def query(sql, params=None):
    conn = psycopg2.connect(dbname=DB, connect_timeout=5)
    try:
        with conn.cursor() as cr:
            cr.execute(sql, params)
            return cr.fetchall()
    finally:
        conn.close()


def counts():
    """``{state: count}`` of all deliveries."""
    return dict(query("SELECT state, count(*) FROM ops_webhook_delivery GROUP BY state"))


def wait_drained(timeout=180):
    """Wait until no delivery is left to process; return seconds waited (None on timeout)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            states = counts()
        except psycopg2.Error:
            states = {"received": 1}
        if not states.get("received") and not states.get("failed"):
            return time.monotonic() - started
        time.sleep(0.5)
    return None


def exactly_once_report(guids=None):
    """Deliveries stored more than once, not processed, processed more than once (attempts), runs and jobs."""
    where, params = ("WHERE guid = ANY(%s)", [list(guids)]) if guids is not None else ("", None)
    [(stored, distinct, unprocessed, retried)] = query(
        "SELECT count(*), count(DISTINCT guid), count(*) FILTER (WHERE state <> 'processed'), "
        f"count(*) FILTER (WHERE attempts <> 1) FROM ops_webhook_delivery {where}",
        params,
    )
    [(runs, distinct_runs)] = query("SELECT count(*), count(DISTINCT github_id) FROM ops_workflow_run")
    [(jobs, distinct_jobs)] = query("SELECT count(*), count(DISTINCT github_id) FROM ops_workflow_job")
    return {
        "stored": stored,
        "distinct": distinct,
        "not_processed": unprocessed,
        "attempts_not_1": retried,
        "runs": runs,
        "duplicate_runs": runs - distinct_runs,
        "jobs": jobs,
        "duplicate_jobs": jobs - distinct_jobs,
    }


# ---------------------------------------------------------------------------
# Odoo servers
# ---------------------------------------------------------------------------
class Server:
    def __init__(self, odoo, name, workers=2, cron_threads=1, extra=()):
        self.port = devenv.free_port()
        self.log = RESULTS / f"faults-{name}.log"
        self.log.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            devenv.odoo_command(
                odoo,
                DB,
                f"--db-filter=^{DB}$",
                f"--workers={workers}",
                f"--max-cron-threads={cron_threads}",
                f"--http-port={self.port}",
                "--http-interface=127.0.0.1",
                "--log-level=warn",
                "--limit-time-real=600",
                f"--logfile={self.log}",
                *extra,
            ),
            env=devenv.odoo_env(odoo),
        )
        devenv.wait_until_up(self.port)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/ops/github/webhook"

    def children(self):
        """PIDs whose parent is this server (its prefork workers)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                found.append(int(stat.parent.name))
        return found

    def errors(self):
        if not self.log.exists():
            return []
        return [line for line in self.log.read_text(errors="replace").splitlines() if " ERROR " in line]

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def shell(odoo, code):
    return devenv.odoo_shell(odoo, DB, code)


def preload(odoo, runs, batch_size):
    """Store ``runs`` workflow_run and ``runs`` workflow_job deliveries (received, not processed yet)."""
    RESULTS.mkdir(exist_ok=True)
    base = 6_000_000 + int(time.time()) % 100_000 * 10
    payloads = []
    for index in range(runs):
        run_id = base + index
        payloads.append(("workflow_job", gp.workflow_job_event(ingest.REPO, run_id, job_id=run_id + 50_000_000)))
        payloads.append(("workflow_run", gp.workflow_run_event(ingest.REPO, run_id=run_id, status="in_progress")))
    path = RESULTS / "faults-preload.json"
    path.write_text(json.dumps(payloads))
    shell(
        odoo,
        "import json, uuid\n"
        f"payloads = json.load(open({str(path)!r}))\n"
        f"repo = env['ops.repository'].search([('full_name', '=', {ingest.REPO!r})])\n"
        f"env['ir.config_parameter'].set_param('ops_autopilot.delivery_batch_size', {batch_size})\n"
        "env['ops.webhook.delivery'].create([{'guid': str(uuid.uuid4()), 'event': e, 'action': p.get('action'),\n"
        "    'repository_id': repo.id, 'payload': json.dumps(p)} for e, p in payloads])\n"
        "env.cr.commit()\n",
    )
    path.unlink()


def trigger_processing(odoo):
    shell(odoo, f"env.ref({CRON_XMLID!r})._trigger()\nenv.cr.commit()\n")


# ---------------------------------------------------------------------------
# scenario 1: PostgreSQL restarted under traffic
# ---------------------------------------------------------------------------
class Sender:
    """Threads posting signed deliveries of distinct runs; every attempt is kept (body, headers, answer)."""

    def __init__(self, port, threads=4, rate=30.0):
        self.port = port
        self.threads = threads
        self.interval = threads / rate
        self.attempts = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.next_run = 7_000_000 + int(time.time()) % 100_000 * 10

    def _one(self):
        with self.lock:
            self.next_run += 1
            run_id = self.next_run
        body = json.dumps(gp.workflow_run_event(ingest.REPO, run_id=run_id, status="in_progress")).encode()
        headers = {
            "Content-Type": "application/json",
            "X-GitHub-Event": "workflow_run",
            "X-GitHub-Delivery": str(uuid.uuid4()),
            "X-Hub-Signature-256": signature.sign(ingest.SECRET, body),
        }
        conn = HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("POST", "/ops/github/webhook", body=body, headers=headers)
            status = conn.getresponse().status
        except OSError:
            status = 0  # no answer at all: GitHub lists it as failed too
        finally:
            conn.close()
        with self.lock:
            self.attempts.append(
                {
                    "guid": headers["X-GitHub-Delivery"],
                    "body": body,
                    "headers": headers,
                    "status": status,
                    "at": time.monotonic(),
                    "run_id": run_id,
                }
            )

    def _loop(self):
        while not self.stop.is_set():
            started = time.monotonic()
            self._one()
            self.stop.wait(max(0.0, self.interval - (time.monotonic() - started)))

    def run(self, seconds, during=None):
        workers = [threading.Thread(target=self._loop) for _ in range(self.threads)]
        for worker in workers:
            worker.start()
        if during:
            during()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            time.sleep(0.2)
        self.stop.set()
        for worker in workers:
            worker.join()


def scenario_pg_restart(odoo, cluster, early_ack=False):
    reset_queue()
    server = Server(odoo, "pg_crash_early_ack" if early_ack else "pg_restart", workers=2, cron_threads=1)
    github = FakeGitHub(token="ghp_faults").start()
    repo = f"repo = env['ops.repository'].search([('full_name', '=', {ingest.REPO!r})])\n"
    try:
        if early_ack:
            # a repository whose delivery log on GitHub was just checked: answered once committed, before the
            # flush; faster traffic, so that the crash finds deliveries acknowledged and not yet on disk
            shell(odoo, repo + "repo.write({'delivery_log_mark': odoo.fields.Datetime.now()})\nenv.cr.commit()\n")
        sender = Sender(server.port, threads=8, rate=200) if early_ack else Sender(server.port)
        restart = {}

        def crash_and_recover():
            time.sleep(6)
            restart["at"] = time.monotonic()
            cluster.restart("immediate")
            restart["up"] = time.monotonic()

        chaos = threading.Thread(target=crash_and_recover)
        sender.run(20, during=chaos.start)
        chaos.join()
        attempts = sender.attempts
        acked = [a for a in attempts if 200 <= a["status"] < 300]
        refused = [a for a in attempts if not 200 <= a["status"] < 300]
        after = [a for a in acked if a["at"] > restart["up"]]
        recovered_in = (min(a["at"] for a in after) - restart["at"]) if after else None
        drained_in = wait_drained()
        acked_report = exactly_once_report([a["guid"] for a in acked])
        lost_in_crash = len(acked) - acked_report["distinct"]

        # GitHub lists every attempt; the sync cron's method asks again for those Odoo never stored
        github.add_repo(ingest.REPO)
        for attempt in attempts:
            github.add_run(ingest.REPO, run_id=attempt["run_id"], status="in_progress")
            github.add_delivery(
                ingest.REPO,
                4242,
                attempt["guid"],
                "workflow_run",
                attempt["body"],
                attempt["headers"],
                attempt["status"],
            )
        github.redeliver_to = server.url
        out = shell(
            odoo,
            repo + f"repo.write({{'api_url': {github.url!r}, 'token': 'ghp_faults', 'hook_id': 4242}})\n"
            "totals = repo._sync_from_github()\n"
            "env.cr.commit()\n"
            "print('SYNC', totals, repo.last_sync_state, repo.last_sync_message)\n",
        )
        sync_line = out.split("SYNC", 1)[1].strip() if "SYNC" in out else out[-300:]
        drained_after_sync = wait_drained()
        all_report = exactly_once_report([a["guid"] for a in attempts])
        runs_expected = len({a["run_id"] for a in attempts})
        # acknowledged before the flush, a delivery may be lost in the crash: then the sync must give it back
        acked_intact = acked_report["stored"] == acked_report["distinct"] and acked_report["not_processed"] == 0
        ok = (
            acked_intact
            and (early_ack or lost_in_crash == 0)
            and all_report["distinct"] == len(attempts)
            and all_report["stored"] == len(attempts)
            and all_report["not_processed"] == 0
            and all_report["attempts_not_1"] == 0
            and all_report["duplicate_runs"] == 0
            and all_report["runs"] == runs_expected
        )
        print(f"  sent {len(attempts)}, answered 2xx {len(acked)}, not 2xx (5xx or no answer) {len(refused)}")
        print(f"  PostgreSQL down for {restart['up'] - restart['at']:.1f} s (immediate stop, crash recovery)")
        print(
            f"  first 2xx after the restart: {recovered_in:.1f} s after it began" if recovered_in else "  no 2xx after"
        )
        print(f"  backlog processed {drained_in:.1f} s after the traffic stopped" if drained_in else "  NOT DRAINED")
        print(f"  2xx deliveries: {acked_report}")
        print(f"  2xx deliveries lost in the crash: {lost_in_crash}" + (" (the sync below asks for them)" * early_ack))
        print(f"  sync: {sync_line}")
        print(f"  redelivered and processed in {drained_after_sync or 0:.1f} s; all deliveries: {all_report}")
        print(f"  server log: {len(server.errors())} ERROR lines (connections lost during the restart)")
        return ok, {
            "sent": len(attempts),
            "acked": len(acked),
            "lost_in_crash": lost_in_crash,
            "refused": len(refused),
            "recovered_in_s": recovered_in,
            "acked_report": acked_report,
            "all_report": all_report,
            "sync": sync_line,
        }
    finally:
        github.stop()
        server.stop()
        # the next scenarios start from a repository without a checked delivery log
        shell(
            odoo, repo + "repo.write({'delivery_log_mark': False, 'api_url': 'http://127.0.0.1:9'})\nenv.cr.commit()\n"
        )


# ---------------------------------------------------------------------------
# scenario 5: the cron worker killed mid-batch
# ---------------------------------------------------------------------------
def workers_in_a_job(server):
    """``pid`` of this server's worker processes inside a transaction on the database now (the cron worker)."""
    rows = query(
        "SELECT DISTINCT application_name FROM pg_stat_activity WHERE datname = %s AND xact_start IS NOT NULL "
        "AND application_name LIKE 'odoo-%%'",
        [DB],
    )
    children = set(server.children())
    pids = {int(name.split("-", 1)[1]) for (name,) in rows if name.split("-", 1)[1].isdigit()}
    return sorted(pids & children)


def rolled_back_inserts():
    """Run ids the sequence handed out beyond the committed runs: inserts of a batch that was rolled back."""
    [(last, is_called)] = query("SELECT last_value, is_called FROM ops_workflow_run_id_seq")
    [(highest,)] = query("SELECT coalesce(max(id), 0) FROM ops_workflow_run")
    return (last if is_called else last - 1) - highest


def half_written():
    """Runs and jobs no processed delivery accounts for: what a half-committed batch would leave."""
    [(runs,)] = query(
        "SELECT count(*) FROM ops_workflow_run r WHERE NOT EXISTS (SELECT 1 FROM ops_webhook_delivery d "
        "WHERE d.state = 'processed' AND ((d.res_model = 'ops.workflow.run' AND d.res_id = r.id) "
        "OR (d.res_model = 'ops.workflow.job' AND d.res_id IN "
        "(SELECT id FROM ops_workflow_job j WHERE j.run_id = r.id))))"
    )
    [(jobs,)] = query(
        "SELECT count(*) FROM ops_workflow_job j WHERE NOT EXISTS (SELECT 1 FROM ops_webhook_delivery d "
        "WHERE d.state = 'processed' AND d.res_model = 'ops.workflow.job' AND d.res_id = j.id)"
    )
    return runs, jobs


def reset_queue():
    conn = psycopg2.connect(dbname=DB)
    with conn, conn.cursor() as cr:
        cr.execute("DELETE FROM ops_webhook_delivery; DELETE FROM ops_workflow_job; DELETE FROM ops_workflow_run")
    conn.close()


def scenario_kill_worker(odoo, cluster, runs=1500, batch=250):
    reset_queue()
    preload(odoo, runs, batch)
    total = 2 * runs
    server = Server(odoo, "kill_worker", workers=2, cron_threads=1)
    try:
        trigger_processing(odoo)
        killed, seen, deadline = None, None, time.monotonic() + 120
        while time.monotonic() < deadline and killed is None:
            processed = counts().get("processed", 0)
            if processed >= total:
                break
            # mid-batch: the run id sequence is ahead of the committed runs (a batch is inserting now)
            writing = batch <= processed < total - batch and rolled_back_inserts() > 0
            pids = workers_in_a_job(server) if writing else []
            if pids:
                seen = processed
                os.kill(pids[0], signal.SIGKILL)
                killed = pids[0]
            else:
                time.sleep(0.02)
        if killed is None:
            print("  FAIL: never caught the cron worker in a batch")
            return False, {}
        # PostgreSQL ends the dead worker's backend and rolls its transaction back
        for _ in range(100):
            if not query("SELECT 1 FROM pg_stat_activity WHERE application_name = %s", [f"odoo-{killed}"]):
                break
            time.sleep(0.1)
        after_kill = counts().get("processed", 0)
        lost_inserts = rolled_back_inserts()
        runs_orphaned, jobs_orphaned = half_written()
        drained_in = wait_drained()
        report = exactly_once_report()
        ok = (
            after_kill % batch == 0
            and runs_orphaned == jobs_orphaned == 0
            and drained_in is not None
            and report["stored"] == total
            and report["not_processed"] == 0
            and report["attempts_not_1"] == 0
            and report["runs"] == runs
            and report["jobs"] == runs
            and report["duplicate_runs"] == report["duplicate_jobs"] == 0
        )
        print(f"  {total} deliveries queued, batch {batch}; worker {killed} killed (SIGKILL) at {seen} processed")
        print(
            f"  right after: {after_kill} processed (a multiple of {batch}: whole batches only), "
            f"{runs_orphaned} runs and {jobs_orphaned} jobs without their delivery; "
            f"{lost_inserts} run ids the killed batch had taken, rolled back"
        )
        print(f"  respawned worker finished the queue in {drained_in or 0:.1f} s: {report}")
        print(f"  server log: {len(server.errors())} ERROR lines")
        return ok, {
            "killed_at": seen,
            "after_kill": after_kill,
            "orphans": [runs_orphaned, jobs_orphaned],
            "rolled_back_inserts": lost_inserts,
            "report": report,
        }
    finally:
        server.stop()


# ---------------------------------------------------------------------------
# scenario 2: two Odoo servers, one queue
# ---------------------------------------------------------------------------
def scenario_two_servers(odoo, cluster, runs=1500, batch=100):
    reset_queue()
    preload(odoo, runs, batch)
    log_cron = ("--log-handler=odoo.addons.base.models.ir_cron:INFO",)
    servers = [Server(odoo, f"two_servers_{i}", workers=0, cron_threads=2, extra=log_cron) for i in (1, 2)]
    try:
        trigger_processing(odoo)
        drained_in = wait_drained()
        report = exactly_once_report()
        taken = []
        for server in servers:
            lines = [
                line
                for line in server.log.read_text(errors="replace").splitlines()
                if "process GitHub deliveries" in line and " processed " in line
            ]
            taken.append(sum(int(line.split(" processed ")[1].split()[0]) for line in lines))
        errors = [line for server in servers for line in server.errors()]
        ok = (
            drained_in is not None
            and report["not_processed"] == 0
            and report["attempts_not_1"] == 0
            and report["runs"] == runs
            and report["jobs"] == runs
            and report["duplicate_runs"] == report["duplicate_jobs"] == 0
            and sum(taken) == 2 * runs
            and not errors
        )
        print(f"  {2 * runs} deliveries, batch {batch}, drained in {drained_in or 0:.1f} s: {report}")
        print(f"  batches done by server 1 / server 2: {taken[0]} / {taken[1]} deliveries (sum {sum(taken)})")
        print(f"  ERROR lines in their logs: {len(errors)}")
        return ok, {"report": report, "per_server": taken, "errors": len(errors)}
    finally:
        for server in servers:
            server.stop()


SCENARIOS = {
    "pg_restart": scenario_pg_restart,
    "pg_crash_early_ack": functools.partial(scenario_pg_restart, early_ack=True),
    "kill_worker": scenario_kill_worker,
    "two_servers": scenario_two_servers,
}


def main(names):
    names = names or list(SCENARIOS)
    odoo = devenv.prepare()
    RESULTS.mkdir(exist_ok=True)
    cluster = PrivateCluster()
    results = {}
    try:
        print(f"== private PostgreSQL cluster on 127.0.0.1:{cluster.port} ({cluster.dir})", flush=True)
        cluster.start()
        print(f"== installing the addon in {DB}", flush=True)
        ingest.prepare_database(odoo, DB)
        # never reach the internet, whatever a scenario triggers
        shell(odoo, "env['ops.repository'].search([]).write({'api_url': 'http://127.0.0.1:9'})\nenv.cr.commit()\n")
        for name in names:
            print(f"== {name}", flush=True)
            started = time.monotonic()
            ok, figures = SCENARIOS[name](odoo, cluster)
            results[name] = {"ok": ok, "seconds": time.monotonic() - started, **figures}
            print(f"  {'PASS' if ok else 'FAIL'} ({results[name]['seconds']:.0f} s)", flush=True)
    finally:
        cluster.stop()
    (RESULTS / "faults.json").write_text(json.dumps(results, indent=2, default=str))
    return 0 if results and all(r["ok"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
