/** @odoo-module **/
/**
 * The dashboard's "Delivery" section: the four DORA keys of the production deploys, each with its
 * value, DORA performance band, trend against the previous period and definition (tooltip); a click
 * opens the records behind the key. Figures come computed from the server
 * (ops.dashboard._delivery_data, data key "delivery"); this component only draws them.
 *
 * Its default slot is the place for the cost panel (CI minutes, AI tokens, incidents priced): the
 * dashboard passes it as this component's body.
 */

import { Component } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";

export const BAND_CLASSES = {
    elite: "text-bg-success",
    high: "text-bg-info",
    medium: "text-bg-warning",
    low: "text-bg-danger",
};

export class OpsDelivery extends Component {
    static template = "ops_autopilot.OpsDelivery";
    static props = { delivery: Object, openAction: Function, slots: { type: Object, optional: true } };

    keyTooltip(key) {
        const lines = [key.definition];
        lines.push(_t("Previous period: %s", key.previous_display));
        if (key.value !== null) {
            lines.push(_t("Computed from %s", key.sample_size));
        }
        if (key.key === "lead_time" && key.value !== null) {
            lines.push(_t("90th percentile: %s", key.details.p90_display));
        }
        if (key.key === "deployment_frequency" && key.details.four_keys) {
            lines.push(_t("Four Keys reading: %s", key.details.four_keys));
        }
        if (key.key === "time_to_restore" && key.details.unrestored) {
            lines.push(_t("Not restored yet: %s", key.details.unrestored));
        }
        lines.push(_t("Bands: %s", this.props.delivery.band_source));
        return lines.join("\n");
    }

    bandClass(key) {
        return BAND_CLASSES[key.band] || "text-bg-secondary";
    }

    trendIcon(key) {
        return { up: "fa-arrow-up", down: "fa-arrow-down", flat: "fa-arrows-h" }[key.trend];
    }

    trendClass(key) {
        if (key.improved === true) {
            return "text-success";
        }
        if (key.improved === false) {
            return "text-danger";
        }
        return "text-muted";
    }
}
