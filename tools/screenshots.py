#!/usr/bin/env python3
"""Screenshots for the README and docs: the dashboard, runs, a diagnosis, an incident, an approval, history, report.

1. Creates (or reuses) the database ``ops_autopilot_screens`` with the addon and its demo data,
   then adds a week of history through the addon's own models (health checks of three
   targets rolled up per hour, workflow runs, incidents, self-healing re-runs, a flaky
   signature) — ``--fresh`` starts over.
2. Starts Odoo on a free port, logs in as admin, and drives headless Chromium over the
   DevTools protocol (websocket-client) to save PNGs in ``docs/screenshots/``: the
   dashboard, the runs, a demo run's diagnosis, the demo payment incident's timeline, the
   demo restart awaiting approval, a target's history, the status page, the demo
   repository's webhook health, its promotion view and the weekly report.

Nothing is downloaded: Chromium is the system's, Chart.js is Odoo's own bundle.
"""

import argparse
import base64
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
import websocket

sys.path.insert(0, str(Path(__file__).resolve().parent))
import devenv

ROOT = devenv.ROOT
DATABASE = "ops_autopilot_screens"
OUT = ROOT / "docs" / "screenshots"
WIDTH = 1440

HISTORY = r"""
import random
from datetime import timedelta
from odoo import fields

rng = random.Random(7)
DAYS = 14  # this week and the one before it, so the tiles have trends
# no enrichment of the company from Odoo's partner-autocomplete service (no outside calls)
if "iap_enrich_auto_done" in env["res.company"]._fields:
    env["res.company"].search([]).write({"iap_enrich_auto_done": True})
now = fields.Datetime.now().replace(second=0, microsecond=0)
repo = env.ref("ops_autopilot.ops_repository_erp_demo")
Target = env["ops.health.target"]
targets = [
    # shown on the status page and the targets' cards; this database runs no crons, so they are never probed
    Target.create({"name": "Shop (www)", "url": "https://shop.example.com/health", "interval_minutes": 15}),
    Target.create({"name": "Public API", "url": "https://api.example.com/health", "threshold_response_ms": 800,
                   "interval_minutes": 15}),
    Target.create({"name": "Odoo ERP", "url": "https://erp.example.com/web/health", "interval_minutes": 15}),
]
samples = []
for index, target in enumerate(targets):
    for step in range(DAYS * 24 * 4):
        at = now - timedelta(minutes=15 * step)
        day = step // 96
        down = (index == 0 and day == 2 and 40 <= step % 96 < 46) or rng.random() < 0.004
        slow = index == 1 and day in (0, 1, 3, 5)
        response = rng.gauss(1100 if slow else 420 + 150 * index, 90)
        samples.append({
            "target_id": target.id, "company_id": target.company_id.id, "checked_at": at, "up": not down,
            "status_code": 503 if down else 200, "response_ms": 0 if down else max(response, 40),
            "error": "HTTP 503" if down else False,
            "cpu_percent": min(99, rng.gauss(86 if index == 2 and day < 4 else 45, 6)),
            "memory_percent": min(99, rng.gauss(62 + 8 * index, 4)),
        })
env["ops.health.sample"].create(samples)
for target in targets:  # the last check and the day's uptime, as the probe would have recorded them
    own = [s for s in samples if s["target_id"] == target.id]
    last = max(own, key=lambda s: s["checked_at"])
    day = [s["up"] for s in own if s["checked_at"] > now - timedelta(days=1)]
    target.write({"last_checked_at": last["checked_at"], "last_up": last["up"],
                  "last_status_code": last["status_code"], "last_response_ms": last["response_ms"],
                  "next_check_at": last["checked_at"] + timedelta(minutes=15),
                  "uptime_24h": 100.0 * sum(day) / len(day)})
env["ops.health.sample.hourly"]._rollup(now - timedelta(days=DAYS + 1), now + timedelta(hours=1))
env["ops.health.sample.daily"]._rollup(now - timedelta(days=DAYS + 1), now + timedelta(days=1))

Run = env["ops.workflow.run"]
workflows = [("CI", 420, 0.2), ("Lint", 95, 0.05), ("Nightly upgrade test", 1500, 0.3), ("Deploy", 360, 0.1)]
for number in range(DAYS * 17):
    name, seconds, failure = workflows[number % len(workflows)]
    started = now - timedelta(minutes=rng.randint(10, DAYS * 24 * 60))
    outcome = "failure" if rng.random() < failure else ("cancelled" if rng.random() < 0.03 else "success")
    duration = max(30, int(rng.gauss(seconds, seconds * 0.15)))
    Run.create({
        "repository_id": repo.id, "github_id": 9300000000 + number, "name": name, "run_number": 500 + number,
        "workflow_path": ".github/workflows/%s.yml" % name.lower().replace(" ", "-"), "event": "push",
        "head_branch": "main", "status": "completed", "conclusion": outcome, "outcome": outcome,
        "started_at": started, "finished_at": started + timedelta(seconds=duration), "duration": duration,
        "display_title": "%s on main" % name, "actor": rng.choice(["alice", "bob", "carol"]),
    })

# cache restores, as self-healing records them when it fetches a failed job's log: parsed by the
# engine from real job logs of the diagnosis corpus (actions/cache, setup-* steps)
from pathlib import Path
import odoo.addons.ops_autopilot as addon
from odoo.addons.ops_autopilot.autopilot.selfheal import decisions
corpus = sorted(Path(addon.__file__).parent.glob("autopilot/data/diagnosis_corpus/*/*.log"))
cached = [c for c in (decisions.cache_summary(p.read_text(errors="replace")) for p in corpus)
          if c["hits"] + c["misses"]]
for number, run in enumerate(Run.search([("outcome", "=", "failure"), ("github_id", ">=", 9300000000)])):
    cache = cached[number % len(cached)]
    env["ops.workflow.job"].create({
        "run_id": run.id, "repository_id": repo.id, "github_id": 9400000000 + number, "name": "test",
        "workflow_name": run.name, "status": "completed", "conclusion": "failure", "outcome": "failure",
        "started_at": run.started_at, "completed_at": run.finished_at, "log_fetched": True,
        "log_fetched_at": run.finished_at, "cache_hits": cache["hits"], "cache_misses": cache["misses"],
    })

Incident = env["ops.incident"]
specs = [
    ("Shop (www) is down", "health", "critical", 0, 2, 35, False),
    ("Public API is slow", "health", "high", 1, 1, 22, False),
    ("Public API is slow", "health", "high", 1, 3, 14, False),
    ("Odoo ERP CPU above 80 %", "health", "medium", 2, 4, 9, False),
    ("Odoo ERP CPU above 80 %", "health", "medium", 2, 5, 6, True),
    ("CI: network timeout in pip install", "ci", "medium", None, 2, 12, False),
    ("CI: missing module dependency", "ci", "high", None, 6, 18, False),
    ("Public API is slow", "health", "high", 1, 0, None, False),
    ("Odoo ERP memory above 85 %", "health", "medium", 2, 0, None, False),
    ("Shop (www) is down", "health", "critical", 0, 9, 48, False),
    ("Public API is slow", "health", "high", 1, 10, 25, False),
    ("CI: network timeout in pip install", "ci", "medium", None, 11, 31, False),
    ("Nightly upgrade test fails", "ci", "critical", None, 1, None, False),
]
for number, (title, source, severity, target, days_ago, minutes, false_positive) in enumerate(specs):
    seen = now - timedelta(days=days_ago, hours=rng.randint(1, 12))
    incident = Incident.create({
        "title": title, "source": source, "severity": severity, "first_seen": seen, "last_seen": seen,
        "dedup_key": "screens:%s" % number, "target_id": targets[target].id if target is not None else False,
        "repository_id": repo.id if source == "ci" else False,
        "description": "Seen by the monitoring cron." if source == "health" else "Diagnosed from the job log.",
    })
    if minutes is not None:
        incident.write({"state": "resolved", "resolved_at": seen + timedelta(minutes=minutes),
                        "acknowledged_at": seen + timedelta(minutes=2), "false_positive": false_positive,
                        "resolution_note": "Recovered." if not false_positive else "Load test, not an outage."})

Action = env["ops.remediation.action"]
for number, state in enumerate(
    ["succeeded", "succeeded", "succeeded", "failed", "succeeded", "succeeded"] + ["succeeded", "failed"] * 4
):
    done = now - timedelta(days=number, hours=3)
    Action.create({"kind": "rerun_jobs", "state": state, "repository_id": repo.id, "executor": "github_api",
                   "requested_at": done - timedelta(minutes=4), "finished_at": done})
# the restart awaiting approval is the demo's own (Payment API), opened by the probe's code path
if "ops.failure.signature" in env:
    env["ops.failure.signature"].create({
        "fingerprint": "3f1c9a27b5e04d11", "repository_id": repo.id, "category": "test_failure",
        "job_name": "test (python 3.12)", "template": "FAILED tests/test_sale.py::test_confirm - TimeoutError",
        "first_seen": now - timedelta(days=6), "last_seen": now - timedelta(hours=5), "count": 7,
        "flaky": True, "flaky_count": 4, "flaky_last_seen": now - timedelta(hours=5),
    })
env.cr.commit()
print("HISTORY", len(samples), Run.search_count([]), Incident.search_count([]))
"""


def prepare(odoo, fresh):
    if fresh:
        devenv.drop_database(DATABASE)
    if devenv.database_exists(DATABASE):
        return
    devenv.say(f"creating {DATABASE} with the addon and its demo data")
    devenv.install_addon(odoo, DATABASE, demo=True)
    out = devenv.odoo_shell(odoo, DATABASE, HISTORY, marker="HISTORY")
    devenv.say(out.strip().splitlines()[-1])


class Browser:
    """Headless Chromium driven over the DevTools protocol."""

    def __init__(self, height):
        self.port = devenv.free_port()
        self.profile = tempfile.mkdtemp(prefix="ops-screens-")
        chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
        if not chromium:
            raise RuntimeError("Chromium is needed for screenshots (apt-get install chromium)")
        self.process = subprocess.Popen(
            [
                chromium,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                f"--remote-debugging-port={self.port}",
                f"--user-data-dir={self.profile}",
                f"--window-size={WIDTH},{height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                pages = requests.get(f"http://127.0.0.1:{self.port}/json/list", timeout=2).json()
                page = next(p for p in pages if p.get("type") == "page")
                break
            except (requests.RequestException, StopIteration):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        self.ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=60, suppress_origin=True)
        self.ids = 0
        self.errors = []
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call("Network.enable")

    def call(self, method, **params):
        self.ids += 1
        self.ws.send(json.dumps({"id": self.ids, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("method") == "Runtime.exceptionThrown":
                self.errors.append(message["params"]["exceptionDetails"].get("text"))
            if message.get("id") == self.ids:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        return result.get("result", {}).get("value")

    def goto(self, url, ready, settle=1.5, timeout=60):
        self.call("Page.navigate", url=url)
        self.goto_wait(ready, settle, timeout)

    def search(self, model, domain):
        """The first id of ``model`` matching ``domain``, read over JSON-RPC as the logged-in user."""
        found = self.evaluate(
            "fetch('/web/dataset/call_kw', {method: 'POST', headers: {'Content-Type': 'application/json'},"
            f"body: JSON.stringify({{jsonrpc: '2.0', params: {{model: {json.dumps(model)}, method: 'search',"
            f"args: [{json.dumps(domain)}], kwargs: {{limit: 1}}}}}})}})"
            ".then(r => r.json()).then(r => r.result[0])"
        )
        if not found:
            raise RuntimeError(f"no {model} matches {domain}")
        return found

    def click(self, selector, ready, settle=1.5):
        """Click ``selector`` and wait for ``ready``."""
        if not self.evaluate(
            f"(() => {{ const n = document.querySelector({json.dumps(selector)});"
            " if (n) { n.click(); } return !!n; })()"
        ):
            raise RuntimeError(f"nothing to click: {selector}")
        self.goto_wait(ready, settle)

    def goto_wait(self, ready, settle=1.5, timeout=60):
        deadline = time.monotonic() + timeout
        while not self.evaluate(f"!!document.querySelector({json.dumps(ready)})"):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{ready} never appeared")
            time.sleep(0.3)
        time.sleep(settle)

    def shot(self, path, height):
        self.call("Emulation.setDeviceMetricsOverride", width=WIDTH, height=height, deviceScaleFactor=1, mobile=False)
        time.sleep(0.8)
        problem = self.evaluate(
            "[...document.querySelectorAll("
            "'.o_error_dialog, .o_notification.border-danger, .o_ops_dashboard .alert-danger')]"
            ".map((n) => n.innerText).join(' | ')"
        )
        if problem:
            self.errors.append(f"{path.name}: {problem[:500]}")
        # a notice like "the page is out of date" (assets rebuilt while loading) is not part of the screen
        self.evaluate("document.querySelectorAll('.o_notification').forEach((n) => n.remove())")
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)["data"]
        path.write_bytes(base64.b64decode(data))
        print(f"saved {path}")

    def close(self):
        try:
            self.ws.close()
        finally:
            self.process.terminate()
            self.process.wait(timeout=20)
            shutil.rmtree(self.profile, ignore_errors=True)


def take_screens(browser, base):
    """Every screenshot of the docs, in the logged-in browser."""
    browser.call("Emulation.setDeviceMetricsOverride", width=WIDTH, height=1900, deviceScaleFactor=1, mobile=False)
    browser.goto(f"{base}/odoo/ops-dashboard?period=7d", ".o_ops_chart[data-chart='incidents'] canvas", settle=2.5)
    # the dashboard scrolls inside the action: make the window as tall as all of it
    height = browser.evaluate(
        "document.querySelector('.o_ops_dashboard').scrollHeight + document.querySelector('.o_navbar').offsetHeight"
    )
    browser.shot(OUT / "dashboard.png", int(height or 1900) + 8)
    # the Delivery section (four DORA keys) alone: a short window scrolled to it
    browser.call("Emulation.setDeviceMetricsOverride", width=WIDTH, height=460, deviceScaleFactor=1, mobile=False)
    browser.evaluate("document.querySelector('.o_ops_delivery').scrollIntoView()")
    browser.shot(OUT / "delivery.png", 460)
    browser.goto(f"{base}/odoo/action-ops_autopilot.ops_workflow_run_action", ".o_list_view .o_data_row")
    browser.shot(OUT / "runs.png", 900)
    run_id = browser.search(
        "ops.workflow.run", [["diagnosis_ids", "!=", False], ["repository_id.full_name", "=", "acme/odoo-erp"]]
    )
    browser.goto(f"{base}/odoo/ops.workflow.run/{run_id}", ".o_form_view .o_notebook")
    browser.click(".o_notebook a[name='diagnosis']", ".o_form_view .o_ops_failing_line")
    browser.shot(OUT / "run_diagnosis.png", 1100)
    incident_id = browser.search("ops.incident", [["target_id.name", "=", "Payment API (demo)"]])
    browser.goto(f"{base}/odoo/ops.incident/{incident_id}", ".o_form_view .o_field_widget", settle=2)
    browser.click(".o_notebook a[name='timeline']", ".o_ops_incident_timeline .o_data_row")
    browser.shot(OUT / "incident.png", 1100)
    action_id = browser.search(
        "ops.remediation.action",
        [["state", "=", "awaiting_approval"], ["target_id.name", "=", "Payment API (demo)"]],
    )
    browser.goto(f"{base}/odoo/ops.remediation.action/{action_id}", ".o_form_view div[name='request_preview']")
    browser.shot(OUT / "approval.png", 1000)
    target_id = browser.search("ops.health.target", [["name", "=", "Public API"]])
    browser.goto(f"{base}/odoo/ops.health.target/{target_id}", ".o_ops_target_history canvas", settle=2.5)
    browser.shot(OUT / "target_history.png", 1100)
    browser.goto(f"{base}/odoo/action-ops_autopilot.ops_health_target_action", ".o_ops_spark_uptime", settle=2)
    browser.shot(OUT / "targets.png", 900)
    browser.goto(f"{base}/odoo/ops-status", ".o_ops_status_page", settle=2)
    browser.shot(OUT / "status_page.png", 1000)
    repository_id = browser.search("ops.repository", [["full_name", "=", "acme/odoo-erp"]])
    browser.goto(f"{base}/odoo/ops.repository/{repository_id}", ".o_form_view .o_notebook")
    browser.click(".o_notebook a[name='webhook_health']", ".o_form_view div[name='webhook_checklist_html'] *")
    browser.shot(OUT / "webhook_health.png", 1100)
    options = json.dumps({"filters": {"period": "7d"}})
    browser.goto(
        f"{base}/report/html/ops_autopilot.report_ops_health?options={requests.utils.quote(options)}",
        ".o_ops_health_report",
    )
    height = min(int(browser.evaluate("document.documentElement.scrollHeight") or 2000), 4000)
    browser.shot(OUT / "report.png", height)
    # the promotion view of the demo repository: staging and production, a rollback, commits waiting
    browser.goto(f"{base}/odoo/ops.repository/{repository_id}", ".o_form_view .o-form-buttonbox")
    promotion = "button[name='action_view_promotion']"
    if not browser.evaluate(f"!!document.querySelector({json.dumps(promotion)})"):
        browser.click(".o-form-buttonbox .o_button_more", promotion)  # the button box's "More" dropdown
    browser.click(promotion, ".o_kanban_view .o_kanban_record")
    browser.shot(OUT / "promotion.png", 700)
    environment_id = browser.search(
        "ops.deployment.environment", [["name", "=", "production"], ["repository_id.full_name", "=", "acme/odoo-erp"]]
    )
    browser.goto(f"{base}/odoo/ops.deployment.environment/{environment_id}", ".o_form_view .o_notebook")
    browser.shot(OUT / "promotion_production.png", 1000)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fresh", action="store_true", help="recreate the screenshots database")
    args = parser.parse_args()
    odoo = devenv.prepare(with_tests=True)
    prepare(odoo, args.fresh)
    OUT.mkdir(parents=True, exist_ok=True)
    port = devenv.free_port()
    server = subprocess.Popen(
        devenv.odoo_command(
            odoo,
            DATABASE,
            f"--db-filter=^{DATABASE}$",
            f"--http-port={port}",
            "--http-interface=127.0.0.1",
            "--max-cron-threads=0",
            "--log-level=warn",
        ),
        env=devenv.odoo_env(odoo),
    )
    browser = None
    try:
        devenv.wait_until_up(port)
        base = f"http://127.0.0.1:{port}"
        session = requests.Session()
        answer = session.post(
            f"{base}/web/session/authenticate",
            json={"jsonrpc": "2.0", "params": {"db": DATABASE, "login": "admin", "password": "admin"}},
            timeout=60,
        ).json()
        if answer.get("error"):
            raise RuntimeError(answer["error"])
        browser = Browser(1000)
        browser.call(
            "Network.setCookie", name="session_id", value=session.cookies["session_id"], domain="127.0.0.1", path="/"
        )
        take_screens(browser, base)
        if browser.errors:
            print("JavaScript errors:", *browser.errors, sep="\n  ")
            return 1
    finally:
        if browser:
            browser.close()
        server.terminate()
        server.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
