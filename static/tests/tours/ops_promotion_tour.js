/** @odoo-module **/
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("ops_autopilot_promotion_tour", {
    steps: () => [
        {
            content: "The repository's Promotion button",
            trigger: ".o_form_view .o-form-buttonbox button[name='action_view_promotion']",
            run: "click",
        },
        {
            content: "Staging comes first, production shows what waits in staging",
            trigger:
                ".o_kanban_view .o_kanban_record:contains('staging') ~ .o_kanban_record:contains('production'):contains('commits waiting'):contains('#77')",
        },
        {
            content: "Open production",
            trigger: ".o_kanban_view .o_kanban_record:contains('production')",
            run: "click",
        },
        {
            content: "The waiting commit is listed",
            trigger: ".o_form_view .o_notebook td:contains('Add tour feature (#77)')",
        },
        {
            content: "Open the history",
            trigger: ".o_notebook a[name='history']",
            run: "click",
        },
        {
            content: "The failed deployment and its rollback are in the history",
            trigger: ".o_form_view .o_field_one2many .o_data_row.text-danger",
        },
        {
            content: "Open the newest deployment: the rollback",
            trigger: ".o_form_view .o_field_one2many .o_data_row:first-child td[name='short_sha']",
            run: "click",
        },
        {
            content: "The rollback's form names it",
            trigger: ".o_dialog .o_form_view .ribbon:contains('Rollback')",
        },
    ],
});
