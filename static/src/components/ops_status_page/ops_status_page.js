/** @odoo-module **/
/**
 * The status page (client action "ops_autopilot.status_page"): every target with its current state,
 * a 90-day uptime strip (one bar per day, from the daily rollup), its uptime and open incidents, in
 * the style of an uptime monitor's status page. Data from ops.status.page.get_status_overview (as
 * the user); refreshed on the "ops_autopilot/refresh" bus notification and every POLL_SECONDS.
 */
import { Component, onMounted, onWillStart, onWillUnmount, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { useDebounced } from "@web/core/utils/timing";
import { REFRESH_NOTIFICATION } from "../../views/ops_live_views";
import { POLL_SECONDS } from "../ops_dashboard/ops_dashboard";

const OVERALL = {
    up: { text: _t("All targets are up"), cls: "text-bg-success", icon: "fa-check-circle" },
    degraded: { text: _t("Some targets are degraded"), cls: "text-bg-warning", icon: "fa-exclamation-triangle" },
    down: { text: _t("Some targets are down"), cls: "text-bg-danger", icon: "fa-times-circle" },
    unknown: { text: _t("Some targets were never checked"), cls: "text-bg-secondary", icon: "fa-question-circle" },
};
const STATUS_CLASSES = {
    up: "text-bg-success",
    degraded: "text-bg-warning",
    down: "text-bg-danger",
    unknown: "text-bg-secondary",
};

export class OpsStatusPage extends Component {
    static template = "ops_autopilot.OpsStatusPage";
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.actionService = useService("action");
        this.busService = useService("bus_service");
        this.statusClasses = STATUS_CLASSES;
        this.state = useState({ data: null });
        this.reloadSoon = useDebounced(() => this.load(), 1500);
        onWillStart(() => this.load());
        const onRefresh = () => this.reloadSoon();
        onMounted(() => {
            this.busService.subscribe(REFRESH_NOTIFICATION, onRefresh);
            this.busService.start();
            this.poller = setInterval(() => this.load(), POLL_SECONDS * 1000);
        });
        onWillUnmount(() => {
            this.busService.unsubscribe(REFRESH_NOTIFICATION, onRefresh);
            clearInterval(this.poller);
        });
    }

    async load() {
        this.state.data = await this.orm.call("ops.status.page", "get_status_overview", []);
    }

    get overall() {
        return OVERALL[this.state.data?.overall || "unknown"];
    }

    formatUptime(value) {
        return value === null || value === undefined ? _t("no data") : `${value.toFixed(2)} %`;
    }

    barTitle(bar) {
        if (bar.uptime === null) {
            return _t("%s: no check", bar.day);
        }
        return _t("%(day)s: %(uptime)s %% up, %(failed)s of %(checks)s checks failed", {
            day: bar.day,
            uptime: bar.uptime,
            failed: bar.failed,
            checks: bar.checks,
        });
    }

    openTarget(id) {
        this.actionService.doAction({
            type: "ir.actions.act_window",
            res_model: "ops.health.target",
            res_id: id,
            views: [[false, "form"]],
        });
    }

    openIncident(id) {
        this.actionService.doAction({
            type: "ir.actions.act_window",
            res_model: "ops.incident",
            res_id: id,
            views: [[false, "form"]],
        });
    }
}

registry.category("actions").add("ops_autopilot.status_page", OpsStatusPage);
