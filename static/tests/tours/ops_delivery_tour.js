/** @odoo-module **/
import { registry } from "@web/core/registry";

// The figures themselves are asserted on the server (tests/test_ui_delivery.py); the tour checks what the
// browser draws of them: four key cards with their band badge, values, and a click to the records.
registry.category("web_tour.tours").add("ops_autopilot_delivery_tour", {
    url: "/odoo/ops-dashboard?period=7d",
    steps: () => [
        {
            content: "The Delivery section shows the deployment frequency with its DORA band",
            trigger:
                ".o_ops_delivery_key[data-key='deployment_frequency'][data-band='elite'] .o_ops_delivery_band:contains('Elite')",
        },
        {
            content: "The change failure rate in percent",
            trigger: ".o_ops_delivery_key[data-key='change_failure_rate'] .o_ops_tile_value:contains('%')",
        },
        {
            content: "Every key has its card",
            trigger: ".o_ops_delivery_key[data-key='lead_time'] .o_ops_tile_value",
        },
        {
            content: "A click on a key opens the records behind it",
            trigger: ".o_ops_delivery_key[data-key='deployment_frequency']",
            run: "click",
        },
        {
            content: "The successful production deploys of the period",
            trigger: ".o_list_view .o_data_row",
        },
    ],
});
