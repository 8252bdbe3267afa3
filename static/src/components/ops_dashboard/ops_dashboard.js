/** @odoo-module **/
/**
 * The Ops Autopilot dashboard (client action "ops_autopilot.dashboard"), the app's first screen.
 *
 * Every figure is computed on the server (ops.dashboard.get_dashboard_data, SQL aggregates as
 * the user): this component only draws. Filters live in the URL (router state), so a reload
 * or a shared link restores them. The data refreshes itself on the "ops_autopilot/refresh" bus
 * notification and every POLL_SECONDS, without reloading the page. Payload text is always
 * rendered escaped (t-esc / Chart.js canvas text), never as markup.
 */
import { Component, onMounted, onWillStart, onWillUnmount, status, useEffect, useRef, useState } from "@odoo/owl";
import { loadBundle } from "@web/core/assets";
import { router } from "@web/core/browser/router";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { useDebounced } from "@web/core/utils/timing";
import { useSetupAction } from "@web/search/action_hook";
import { REFRESH_NOTIFICATION } from "../../views/ops_live_views";
import { OpsBusiness } from "../ops_business/ops_business";
import { OpsFreezeBanner } from "../ops_freeze/ops_freeze";
import { OpsDelivery } from "../ops_delivery/ops_delivery";

export const POLL_SECONDS = 60;
const PERIODS = [
    ["24h", _t("24 h")],
    ["7d", _t("7 days")],
    ["30d", _t("30 days")],
    ["custom", _t("Custom")],
];
const FILTER_KEYS = ["period", "date_from", "date_to", "repository_id", "target_id"];
const OUTCOME_COLORS = {
    success: "#28a745",
    failure: "#dc3545",
    cancelled: "#6c757d",
    running: "#17a2b8",
    queued: "#ffc107",
    skipped: "#adb5bd",
    other: "#6f42c1",
};
const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
const SEVERITY_CLASSES = {
    critical: "text-bg-danger",
    high: "text-bg-warning",
    medium: "text-bg-info",
    low: "text-bg-secondary",
};

/** A Chart.js canvas redrawn whenever its config object changes. */
export class OpsChart extends Component {
    static template = "ops_autopilot.OpsChart";
    static props = { config: Object, name: String };

    setup() {
        this.canvas = useRef("canvas");
        useEffect(
            (config) => {
                const chart = new window.Chart(this.canvas.el, config);
                return () => chart.destroy();
            },
            () => [this.props.config]
        );
    }
}

export class OpsDashboard extends Component {
    static template = "ops_autopilot.OpsDashboard";
    static components = { OpsChart, OpsBusiness, OpsDelivery, OpsFreezeBanner };
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.notification = useService("notification");
        this.busService = useService("bus_service");
        this.periods = PERIODS;
        this.severityClasses = SEVERITY_CLASSES;
        this.state = useState({
            filters: this.initialFilters(),
            data: null,
            charts: {},
            loading: false,
            error: false,
        });
        this.root = useRef("root");
        this.sequence = 0;
        // coming back through the breadcrumb restores the filters the user left
        useSetupAction({ getLocalState: () => ({ filters: { ...this.state.filters } }) });
        this.reloadSoon = useDebounced(() => this.load({ silent: true }), 1500);
        onWillStart(async () => {
            await loadBundle("web.chartjs_lib");
            await this.load();
        });
        const onRefresh = () => this.reloadSoon();
        onMounted(() => {
            this.busService.subscribe(REFRESH_NOTIFICATION, onRefresh);
            this.busService.start();
            this.poller = setInterval(() => this.load({ silent: true }), POLL_SECONDS * 1000);
        });
        onWillUnmount(() => {
            this.busService.unsubscribe(REFRESH_NOTIFICATION, onRefresh);
            clearInterval(this.poller);
        });
    }

    /** Filters from the URL (router state) or the action's params/context. */
    initialFilters() {
        if (this.props.state?.filters) {
            return { ...this.props.state.filters };
        }
        const action = this.props.action || {};
        const source = {
            ...(action.context?.params || {}),
            ...(action.params || {}),
            ...router.current,
        };
        const filters = { period: "7d", date_from: false, date_to: false, repository_id: false, target_id: false };
        for (const key of FILTER_KEYS) {
            if (source[key] !== undefined && source[key] !== "") {
                filters[key] = source[key];
            }
        }
        for (const key of ["repository_id", "target_id"]) {
            filters[key] = parseInt(filters[key]) || false;
        }
        return filters;
    }

    pushUrl() {
        const f = this.state.filters;
        const custom = f.period === "custom";
        router.pushState({
            period: f.period,
            date_from: custom ? f.date_from || undefined : undefined,
            date_to: custom ? f.date_to || undefined : undefined,
            repository_id: f.repository_id || undefined,
            target_id: f.target_id || undefined,
        });
    }

    async load({ silent = false } = {}) {
        // the latest request wins: an answer for filters changed since is dropped
        const sequence = ++this.sequence;
        if (!silent) {
            this.state.loading = true;
        }
        try {
            const data = await this.orm.call("ops.dashboard", "get_dashboard_data", [{ ...this.state.filters }]);
            if (sequence !== this.sequence) {
                return;
            }
            // the server says which filters it applied (unknown or unreadable ids are dropped)
            Object.assign(this.state.filters, {
                period: data.filters.period,
                date_from: data.filters.date_from,
                date_to: data.filters.date_to,
                repository_id: data.filters.repository_id,
                target_id: data.filters.target_id,
            });
            this.state.data = data;
            this.state.charts = this.buildCharts(data.charts);
            this.state.error = false;
            this.pushUrl();
        } catch (error) {
            // a dashboard left while loading (e.g. the home dashboard, then its menu) has nothing to show
            if (sequence !== this.sequence || status(this) === "destroyed") {
                return;
            }
            this.state.error = true;
            if (!silent) {
                throw error;
            }
        } finally {
            if (sequence === this.sequence) {
                this.state.loading = false;
            }
        }
    }

    // ------------------------------------------------------------------ filters
    setPeriod(period) {
        this.state.filters.period = period;
        // "Custom" starts from the days on screen (the server sent them); editing a date reloads
        if (period !== "custom" || (this.state.filters.date_from && this.state.filters.date_to)) {
            this.load();
        }
    }

    onDateChange(key, ev) {
        this.state.filters[key] = ev.target.value || false;
        if (this.state.filters.date_from && this.state.filters.date_to) {
            this.state.filters.period = "custom";
            this.load();
        }
    }

    onSelect(key, ev) {
        this.state.filters[key] = parseInt(ev.target.value) || false;
        this.load();
    }

    // ------------------------------------------------------------------ actions
    openAction(action) {
        if (action) {
            this.actionService.doAction(action);
        }
    }

    openRecord(model, id) {
        this.actionService.doAction({
            type: "ir.actions.act_window",
            res_model: model,
            res_id: id,
            views: [[false, "form"]],
        });
    }

    openStatusPage() {
        this.actionService.doAction("ops_autopilot.ops_status_page_action");
    }

    async printReport(reportType) {
        const action = await this.orm.call("ops.health.report", "action_print", [this.state.filters, reportType]);
        await this.actionService.doAction(action);
    }

    async toggleSubscription() {
        const subscribed = await this.orm.call("ops.dashboard", "toggle_report_subscription", [
            !this.state.data.subscribed,
        ]);
        this.state.data.subscribed = subscribed;
        this.notification.add(
            subscribed
                ? _t("You will receive the health report by email every week.")
                : _t("You will no longer receive the weekly health report."),
            { type: "success" }
        );
    }

    // ------------------------------------------------------------------ display helpers
    tileTooltip(tile) {
        const lines = [tile.computation];
        lines.push(_t("Target: %s", tile.target_label));
        lines.push(_t("Previous period: %s", tile.previous_display));
        if (!tile.no_data) {
            lines.push(_t("Computed from %s records", tile.sample_size));
        }
        return lines.join("\n");
    }

    tileClass(tile) {
        if (tile.no_data) {
            return "o_ops_tile_nodata";
        }
        return tile.met ? "o_ops_tile_met" : "o_ops_tile_missed";
    }

    trendIcon(tile) {
        return { up: "fa-arrow-up", down: "fa-arrow-down", flat: "fa-arrows-h" }[tile.trend];
    }

    trendClass(tile) {
        if (tile.improved === true) {
            return "text-success";
        }
        if (tile.improved === false) {
            return "text-danger";
        }
        return "text-muted";
    }

    selectedName(optionKey, filterKey) {
        const id = this.state.filters[filterKey];
        const option = id && this.state.data?.options[optionKey].find((o) => o.id === id);
        return option ? option.name : "";
    }

    formatDate(value) {
        return value ? value.slice(0, 16) : "";
    }

    // ------------------------------------------------------------------ charts
    buildCharts(charts) {
        // the server sends short axis labels ("14:00", "6 Dec"): upright, thinned out when crowded
        const xAxis = { ticks: { maxRotation: 0, autoSkip: true, autoSkipPadding: 12 } };
        const lineOptions = (unit, extra = {}) => ({
            responsive: true,
            maintainAspectRatio: false,
            animation: false,
            spanGaps: true,
            plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
            scales: { x: xAxis, y: { beginAtZero: true, title: { display: Boolean(unit), text: unit }, ...extra } },
        });
        const colored = (datasets, colorOf, type) =>
            datasets.map((dataset, index) => {
                const color = colorOf(dataset, index);
                return {
                    label: dataset.label,
                    data: dataset.data,
                    backgroundColor: color,
                    borderColor: color,
                    fill: false,
                    tension: 0.2,
                    pointRadius: type === "line" ? 2 : undefined,
                };
            });
        const byIndex = (_dataset, index) => PALETTE[index % PALETTE.length];
        const runs = charts.runs_per_day;
        const incidents = charts.incidents;
        return {
            runs: runs.available && {
                type: "bar",
                data: {
                    labels: runs.labels,
                    datasets: colored(runs.datasets, (d) => OUTCOME_COLORS[d.key], "bar"),
                },
                options: {
                    ...lineOptions(_t("runs")),
                    scales: {
                        x: { ...xAxis, stacked: true },
                        y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
                    },
                },
            },
            buildTime: charts.build_time.available && {
                type: "line",
                data: {
                    labels: charts.build_time.labels,
                    datasets: colored(charts.build_time.datasets, byIndex, "line"),
                },
                options: lineOptions(_t("minutes")),
            },
            response: charts.health.available && {
                type: "line",
                data: { labels: charts.health.labels, datasets: colored(charts.health.response, byIndex, "line") },
                options: lineOptions(_t("ms")),
            },
            uptime: charts.health.available && {
                type: "line",
                data: { labels: charts.health.labels, datasets: colored(charts.health.uptime, byIndex, "line") },
                options: lineOptions("%", { beginAtZero: false, suggestedMax: 100 }),
            },
            incidents: incidents.available && {
                type: "bar",
                data: {
                    labels: incidents.labels,
                    datasets: colored(incidents.datasets, (d) => (d.key === "opened" ? "#dc3545" : "#28a745"), "bar"),
                },
                options: lineOptions(_t("incidents"), { ticks: { precision: 0 } }),
            },
        };
    }
}

registry.category("actions").add("ops_autopilot.dashboard", OpsDashboard);
