/** @odoo-module **/
/**
 * Per-target history widgets: readable durations, the kanban card's sparklines and the form's
 * history chart. Every figure comes from the server (the hourly/daily rollups, never raw samples);
 * these components only draw. Text is rendered escaped (t-esc, Chart.js canvas).
 */
import { Component, onWillStart, onWillUpdateProps, useState } from "@odoo/owl";
import { loadBundle } from "@web/core/assets";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { IntegerField, integerField } from "@web/views/fields/integer/integer_field";
import { standardFieldProps } from "@web/views/fields/standard_field_props";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";
import { OpsChart } from "../ops_dashboard/ops_dashboard";

/**
 * A duration for people: 1440 s -> "24 min", 3900 s -> "1 h 05 min" (same rules as the engine's
 * autopilot.common.durations.human_duration).
 */
export function humanizeDuration(seconds) {
    if (seconds === null || seconds === undefined || seconds === false) {
        return "";
    }
    const sign = seconds < 0 ? "-" : "";
    seconds = Math.abs(seconds);
    const pad = (n) => String(n).padStart(2, "0");
    if (seconds > 0 && seconds < 1) {
        return `${sign}${Math.round(seconds * 1000)} ms`;
    }
    if (seconds < 600) {
        const total = Math.round(seconds);
        const minutes = Math.floor(total / 60);
        const secs = total % 60;
        return sign + (minutes ? `${minutes} min` + (secs ? ` ${pad(secs)} s` : "") : `${secs} s`);
    }
    const allMinutes = Math.round(seconds / 60);
    if (allMinutes < 24 * 60) {
        const hours = Math.floor(allMinutes / 60);
        const minutes = allMinutes % 60;
        return sign + (hours ? `${hours} h` + (minutes ? ` ${pad(minutes)} min` : "") : `${minutes} min`);
    }
    const allHours = Math.round(seconds / 3600);
    const days = Math.floor(allHours / 24);
    const hours = allHours % 24;
    return sign + `${days} d` + (hours ? ` ${pad(hours)} h` : "");
}

/** An integer number of seconds (or minutes: option unit) shown as "24 min"; edited as a number. */
export class OpsDurationField extends IntegerField {
    static template = "ops_autopilot.OpsDurationField";
    static props = { ...IntegerField.props, unit: { type: String, optional: true } };

    get humanized() {
        const value = this.props.record.data[this.props.name];
        return humanizeDuration(this.props.unit === "minutes" ? value * 60 : value);
    }
}

registry.category("fields").add("ops_duration", {
    ...integerField,
    component: OpsDurationField,
    displayName: _t("Duration"),
    supportedOptions: [{ label: _t("Unit"), name: "unit", type: "string" }],
    extractProps: (fieldInfo, dynamicInfo) => ({
        ...integerField.extractProps(fieldInfo, dynamicInfo),
        // the number typed is seconds (or minutes): "1440", never "1,440"; the words beside it read it
        formatNumber: Boolean(fieldInfo.options.enable_formatting),
        unit: fieldInfo.options.unit || "seconds",
    }),
});

/** SVG polyline segments of ``values`` (null: a gap) in a width x height box, lowest value at the bottom. */
export function sparklineSegments(values, width, height, { min = null, max = null } = {}) {
    const present = values.filter((v) => v !== null && v !== undefined);
    if (!present.length) {
        return [];
    }
    const low = min ?? Math.min(...present);
    const high = Math.max(max ?? Math.max(...present), low + 1e-9);
    const step = values.length > 1 ? width / (values.length - 1) : 0;
    const segments = [];
    let current = [];
    values.forEach((value, index) => {
        if (value === null || value === undefined) {
            if (current.length) {
                segments.push(current);
            }
            current = [];
            return;
        }
        const x = (index * step).toFixed(1);
        const y = (height - 1 - ((value - low) / (high - low)) * (height - 2)).toFixed(1);
        current.push(`${x},${y}`);
    });
    if (current.length) {
        segments.push(current);
    }
    return segments.map((points) => (points.length === 1 ? [points[0], points[0]] : points).join(" "));
}

/** The kanban card's last 24 hours: labelled uptime and p95, response-time and uptime sparklines. */
export class OpsSparklineField extends Component {
    static template = "ops_autopilot.OpsSparklineField";
    static props = { ...standardFieldProps };
    width = 120;
    height = 24;

    get spark() {
        return this.props.record.data[this.props.name] || { response: [], uptime: [], labels: {} };
    }

    get responseSegments() {
        return sparklineSegments(this.spark.response || [], this.width, this.height, { min: 0 });
    }

    /** Uptime bars, one per hour: full height at 100 %, coloured by how bad the hour was. */
    get uptimeBars() {
        const values = this.spark.uptime || [];
        const width = this.width / Math.max(values.length, 1);
        return values.map((value, index) => ({
            x: (index * width).toFixed(1),
            width: Math.max(width - 1, 1).toFixed(1),
            height: value === null ? 2 : Math.max((value / 100) * (this.height - 2), 2).toFixed(1),
            cls:
                value === null
                    ? "o_ops_bar_none"
                    : value >= 99.9
                      ? "o_ops_bar_up"
                      : value >= 95
                        ? "o_ops_bar_partial"
                        : "o_ops_bar_down",
            title: value === null ? _t("no check") : `${value} %`,
        }));
    }
}

registry.category("fields").add("ops_sparkline", {
    component: OpsSparklineField,
    displayName: _t("Sparklines (last 24 h)"),
    supportedTypes: ["json"],
});

const HISTORY_PERIODS = [
    ["24h", _t("24 h")],
    ["7d", _t("7 days")],
    ["30d", _t("30 days")],
];

/** The target form's history chart: response time (mean, p95) and uptime over 24 h / 7 d / 30 d. */
export class OpsTargetHistory extends Component {
    static template = "ops_autopilot.OpsTargetHistory";
    static components = { OpsChart };
    static props = { ...standardWidgetProps };

    setup() {
        this.orm = useService("orm");
        this.periods = HISTORY_PERIODS;
        this.state = useState({ period: "24h", data: null, charts: null });
        onWillStart(async () => {
            await loadBundle("web.chartjs_lib");
            await this.load(this.props.record);
        });
        onWillUpdateProps((next) => {
            if (
                next.record.resId !== this.props.record.resId ||
                next.record.data.last_checked_at !== this.props.record.data.last_checked_at
            ) {
                return this.load(next.record);
            }
        });
    }

    async load(record, period = this.state.period) {
        if (!record.resId) {
            this.state.data = null;
            return;
        }
        const data = await this.orm.call("ops.health.target", "get_history", [[record.resId], period]);
        this.state.period = data.period;
        this.state.data = data;
        this.state.charts = this.buildCharts(data);
    }

    setPeriod(period) {
        return this.load(this.props.record, period);
    }

    get summary() {
        const s = this.state.data?.summary || {};
        return {
            uptime: s.uptime === null || s.uptime === undefined ? _t("no data") : `${s.uptime.toFixed(2)} %`,
            avg: s.avg_ms === null || s.avg_ms === undefined ? _t("no data") : `${Math.round(s.avg_ms)} ms`,
            p95: s.p95_ms === null || s.p95_ms === undefined ? _t("no data") : `${Math.round(s.p95_ms)} ms`,
            checks: s.checks || 0,
        };
    }

    buildCharts(data) {
        const x = { ticks: { maxRotation: 0, autoSkip: true, autoSkipPadding: 12 } };
        const options = (unit, y = {}) => ({
            responsive: true,
            maintainAspectRatio: false,
            animation: false,
            spanGaps: false,
            plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
            scales: { x, y: { beginAtZero: true, title: { display: true, text: unit }, ...y } },
        });
        return {
            response: {
                type: "line",
                data: {
                    labels: data.labels,
                    datasets: [
                        {
                            label: _t("Mean"),
                            data: data.avg_ms,
                            borderColor: "#1f77b4",
                            backgroundColor: "#1f77b4",
                            pointRadius: 1,
                            tension: 0.2,
                        },
                        {
                            label: _t("p95"),
                            data: data.p95_ms,
                            borderColor: "#ff7f0e",
                            backgroundColor: "#ff7f0e",
                            pointRadius: 1,
                            tension: 0.2,
                        },
                    ],
                },
                options: options(_t("ms")),
            },
            uptime: {
                type: "bar",
                data: {
                    labels: data.labels,
                    datasets: [
                        {
                            label: _t("Uptime"),
                            data: data.uptime,
                            backgroundColor: data.uptime.map((v) =>
                                v === null ? "#adb5bd" : v >= 99.9 ? "#28a745" : v >= 95 ? "#ffc107" : "#dc3545"
                            ),
                        },
                    ],
                },
                options: options("%", { beginAtZero: false, suggestedMin: 90, max: 100 }),
            },
        };
    }
}

registry.category("view_widgets").add("ops_target_history", { component: OpsTargetHistory });
