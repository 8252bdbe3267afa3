/** @odoo-module **/
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("ops_autopilot_freeze_tour", {
    url: "/odoo",
    steps: () => [
        {
            content: "Open the apps menu",
            trigger: ".o_navbar_apps_menu button",
            run: "click",
        },
        {
            content: "Open the Ops Autopilot app",
            trigger: ".o_app[data-menu-xmlid='ops_autopilot.menu_ops_autopilot_root']",
            run: "click",
        },
        {
            content: "The dashboard's banner names the freeze in force",
            trigger: ".o_ops_dashboard .o_ops_freeze_banner .o_ops_freeze_active:contains('Tour freeze')",
        },
        {
            content: "and counts the held changes; open them",
            trigger: ".o_ops_freeze_banner .o_ops_freeze_held:contains('1 changes held')",
            run: "click",
        },
        {
            content: "The held change is listed with the freeze's reason",
            trigger: ".o_list_view .o_data_row td[name='reason']:contains('Tour freeze')",
        },
    ],
});
