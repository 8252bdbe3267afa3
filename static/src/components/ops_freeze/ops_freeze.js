/** @odoo-module **/
/**
 * The dashboard's change freeze banner (data key "freeze" of ops.dashboard.get_dashboard_data):
 * the windows in force and until when, the next one, deploys flagged and changes held.
 */
import { Component } from "@odoo/owl";
import { useService } from "@web/core/utils/hooks";

export class OpsFreezeBanner extends Component {
    static template = "ops_autopilot.OpsFreezeBanner";
    static props = { freeze: { type: Object, optional: true } };

    setup() {
        this.actionService = useService("action");
    }

    openWindow(id) {
        this.actionService.doAction({
            type: "ir.actions.act_window",
            res_model: "ops.freeze.window",
            res_id: id,
            views: [[false, "form"]],
        });
    }

    openHolds() {
        this.actionService.doAction("ops_autopilot.ops_freeze_hold_action");
    }
}
