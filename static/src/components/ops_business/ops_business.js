/** @odoo-module **/
/**
 * The dashboard's business panel: each business signal's last interval against its seasonal
 * baseline, and the open incidents' business impact ("≈ 42 orders, ≈ 12,300 EUR not taken").
 * Every figure comes from the server (ops.dashboard._business_panel, as the user); this component
 * only draws, text escaped (t-esc).
 */
import { Component } from "@odoo/owl";
import { useService } from "@web/core/utils/hooks";

const STATE_CLASSES = { anomaly: "text-bg-danger", ok: "text-bg-success", learning: "text-bg-secondary" };
const SEVERITY_CLASSES = {
    critical: "text-bg-danger",
    high: "text-bg-warning",
    medium: "text-bg-info",
    low: "text-bg-secondary",
};

export class OpsBusiness extends Component {
    static template = "ops_autopilot.OpsBusiness";
    static props = { data: { type: Object, optional: true } };

    setup() {
        this.actionService = useService("action");
        this.stateClasses = STATE_CLASSES;
        this.severityClasses = SEVERITY_CLASSES;
    }

    get business() {
        return this.props.data || { available: false, signals: [], incidents: [] };
    }

    /** Observed as a share of the baseline, for the bar (0-100, capped). */
    ratio(signal) {
        if (!signal.baseline) {
            return 0;
        }
        return Math.min(100, Math.round((100 * signal.observed) / signal.baseline));
    }

    openAll() {
        if (this.business.action) {
            this.actionService.doAction(this.business.action);
        }
    }

    open(model, id) {
        this.actionService.doAction({
            type: "ir.actions.act_window",
            res_model: model,
            res_id: id,
            views: [[false, "form"]],
        });
    }
}
