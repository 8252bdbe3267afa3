/** @odoo-module **/
/**
 * The dashboard's cost panel: what CI minutes and AI calls cost per week, the minutes lost to
 * re-runs and failed jobs, the most expensive workflows (a click opens their jobs) and each
 * repository's use of its monthly budget. Self-contained: it draws the `cost` key of
 * ops.dashboard.get_dashboard_data (ops_dashboard_cost.py) and opens actions itself, so it can sit
 * in any section of the dashboard. Every figure is computed on the server.
 */
import { Component } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { useService } from "@web/core/utils/hooks";
import { OpsChart, OpsDashboard } from "../ops_dashboard/ops_dashboard";

const BUDGET_CLASSES = {
    ok: "bg-success",
    warning: "bg-warning",
    exceeded: "bg-danger",
    none: "bg-secondary",
};

export class OpsCostPanel extends Component {
    static template = "ops_autopilot.OpsCostPanel";
    static components = { OpsChart };
    static props = { cost: Object };

    setup() {
        this.actionService = useService("action");
    }

    get totals() {
        return this.props.cost.totals;
    }

    /** Chart.js config of the cost per week, CI and AI stacked; a new object when the data changes. */
    get weeklyConfig() {
        const weekly = this.props.cost.weekly;
        if (this._weekly === weekly) {
            return this._config;
        }
        this._weekly = weekly;
        this._config = {
            type: "bar",
            data: {
                labels: weekly.labels,
                datasets: [
                    { label: _t("CI minutes"), data: weekly.ci, backgroundColor: "#1f77b4" },
                    { label: _t("AI"), data: weekly.ai, backgroundColor: "#9467bd" },
                ],
            },
            options: {
                responsive: true,
                maintainAspectRatio: false,
                animation: false,
                plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
                scales: {
                    x: { stacked: true, ticks: { maxRotation: 0, autoSkip: true } },
                    y: { stacked: true, beginAtZero: true, title: { display: true, text: "USD" } },
                },
            },
        };
        return this._config;
    }

    money(value, currency = "USD") {
        return `${(value || 0).toFixed(2)} ${currency}`;
    }

    budgetWidth(row) {
        return `${Math.min(row.percent || 0, 100)}%`;
    }

    budgetClass(row) {
        return BUDGET_CLASSES[row.state] || BUDGET_CLASSES.none;
    }

    openAction(action) {
        if (action) {
            this.actionService.doAction(action);
        }
    }

    openRepository(id) {
        this.actionService.doAction({
            type: "ir.actions.act_window",
            res_model: "ops.repository",
            res_id: id,
            views: [[false, "form"]],
        });
    }
}

// the dashboard's template places the panel with one line (<OpsCostPanel .../>)
OpsDashboard.components = { ...OpsDashboard.components, OpsCostPanel };
