"""Per-target history in real headless Chromium: the widgets load, draw and answer.

Not a tour (the lead writes the "first hour" tour): each page is opened and
its content checked by a short script, so a broken widget, template or
import in the assets fails here.
"""

from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from ..autopilot.testing.probe_targets import ProbeTargets

WAIT = """
const wait = async (selector, accept = (nodes) => nodes.length) => {
    for (let i = 0; i < 150; i++) {
        const nodes = document.querySelectorAll(selector);
        if (accept(nodes)) {
            return nodes;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error("not found: " + selector);
};
const textOf = (nodes) => [...nodes].map((node) => node.textContent).join(" | ");
"""


def script(body):
    """``body`` (async JS using ``wait``) then the success signal; any exception fails the test."""
    return WAIT + "(async () => {\n" + body + '\nconsole.log("test successful");\n})().catch((e) => console.error(e));'


@tagged("post_install", "-at_install")
class TestUiHistory(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.probe_targets = ProbeTargets().start()
        cls.addClassCleanup(cls.probe_targets.stop)
        now = fields.Datetime.now().replace(microsecond=0)
        cls.target = cls.env["ops.health.target"].create(
            {"name": "ui-history-shop", "url": cls.probe_targets.url_for("/ok"), "interval_minutes": 1440}
        )
        cls.env["ops.health.sample"].create(
            [
                {
                    "target_id": cls.target.id,
                    "company_id": cls.target.company_id.id,
                    "checked_at": now - timedelta(minutes=15 * index + 1),
                    "up": index % 9 != 0,
                    "response_ms": 200.0 + index % 7 if index % 9 else 0.0,
                }
                for index in range(4 * 24 * 3)
            ]
        )
        start = now - timedelta(days=4)
        cls.env["ops.health.sample.hourly"]._rollup(start, now + timedelta(hours=1))
        cls.env["ops.health.sample.daily"]._rollup(start, now + timedelta(days=1))

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        # the probes pass requests' (connect, read) timeout tuple; Odoo's test guard compares one number
        if isinstance(kw.get("timeout"), tuple):
            kw["timeout"] = max(kw["timeout"])
        return super()._request_handler(s, r, **kw)

    def test_kanban_card_shows_labelled_figures_and_sparklines(self):
        code = script(
            """
            const card = (await wait(".o_kanban_record", (nodes) =>
                [...nodes].some((n) => n.textContent.includes("ui-history-shop"))));
            const mine = [...card].find((n) => n.textContent.includes("ui-history-shop"));
            const label = mine.querySelector(".o_ops_spark_uptime").textContent;
            if (!/^Uptime 24 h \\d+\\.\\d %$/.test(label)) { throw new Error("uptime label: " + label); }
            if (!/^p95 \\d+ ms$/.test(mine.querySelector(".o_ops_spark_p95").textContent)) {
                throw new Error("p95 label: " + mine.querySelector(".o_ops_spark_p95").textContent);
            }
            if (!mine.querySelector(".o_ops_spark_response polyline")) { throw new Error("no response line"); }
            if (mine.querySelectorAll(".o_ops_spark_uptime_bars rect").length !== 24) {
                throw new Error("not 24 uptime bars");
            }
            if (!mine.textContent.includes("every 1 d")) {
                throw new Error("interval not readable: " + mine.textContent);
            }
            """
        )
        self.browser_js("/odoo/action-ops_autopilot.ops_health_target_action", code, login="admin")

    def test_form_history_chart_durations_and_check_now(self):
        code = script(
            """
            await wait(".o_ops_target_history canvas", (nodes) => nodes.length === 2);
            const chart = window.Chart.getChart(document.querySelector("[data-chart='history_response'] canvas"));
            if (chart.data.labels.length !== 24 || !/^\\d\\d:00$/.test(chart.data.labels[0])) {
                throw new Error("24 h axis: " + chart.data.labels.join(","));
            }
            document.querySelector(".o_ops_target_history button[data-period='30d']").click();
            await wait(".o_ops_target_history button[data-period='30d'].active");
            await wait("[data-chart='history_response'] canvas", () =>
                window.Chart.getChart(document.querySelector("[data-chart='history_response'] canvas"))
                    ?.data.labels.length === 30);
            const interval = textOf(await wait("div[name='interval_minutes'] .o_ops_duration"));
            if (!interval.includes("1 d")) { throw new Error("interval: " + interval); }
            const typed = document.querySelector("div[name='interval_minutes'] input").value;
            if (typed !== "1440") { throw new Error("interval input: " + typed); }
            document.querySelector("button[name='action_check_now']").click();
            const note = textOf(await wait(".o_notification"));
            if (!note.includes("Up") || !note.includes("HTTP 200") || !/\\d+ ms/.test(note)) {
                throw new Error("notification: " + note);
            }
            """
        )
        self.browser_js(
            f"/odoo/action-ops_autopilot.ops_health_target_action/{self.target.id}", code, login="admin", timeout=90
        )
        self.assertTrue(self.target.last_checked_at)

    def test_status_page_and_dashboard_axis(self):
        code = script(
            """
            const rows = await wait(".o_ops_status_target[data-target='ui-history-shop']");
            const bars = rows[0].querySelectorAll(".o_ops_status_bar");
            if (bars.length !== 90) { throw new Error("bars: " + bars.length); }
            if (!bars[89].classList.contains("o_ops_bar_partial") && !bars[89].classList.contains("o_ops_bar_down")) {
                throw new Error("today: " + bars[89].className);
            }
            if (!bars[0].classList.contains("o_ops_bar_none")) { throw new Error("90 days ago: " + bars[0].className); }
            await wait(".o_ops_status_overall");
            """
        )
        self.browser_js("/odoo/ops-status", code, login="admin")
        code = script(
            """
            await wait("[data-chart='uptime'] canvas");
            const chart = window.Chart.getChart(document.querySelector("[data-chart='uptime'] canvas"));
            if (!chart.data.labels.every((label) => /^\\d\\d:00$/.test(label))) {
                throw new Error("axis: " + chart.data.labels.join(","));
            }
            if (chart.options.scales.x.ticks.maxRotation !== 0) { throw new Error("rotated ticks"); }
            await wait(".o_ops_status_link");
            """
        )
        self.browser_js("/odoo/ops-dashboard?period=24h", code, login="admin")
