/** @odoo-module **/
import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("ops_autopilot_runs_tour", {
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
            content: "The app opens on its dashboard; open the CI/CD menu",
            trigger: ".o_ops_dashboard .o_ops_tiles",
        },
        {
            content: "Open the CI/CD menu",
            trigger: ".o_menu_sections [data-menu-xmlid='ops_autopilot.menu_ops_cicd']",
            run: "click",
        },
        {
            content: "Open the workflow runs",
            trigger: ".o-dropdown--menu [data-menu-xmlid='ops_autopilot.menu_ops_workflow_runs']",
            run: "click",
        },
        {
            content: "Runs are listed, the failed one highlighted",
            trigger: ".o_list_view .o_data_row.text-danger td[name='name']:contains('Tour CI')",
        },
        {
            content: "Switch to the kanban by outcome",
            trigger: ".o_switch_view.o_kanban",
            run: "click",
        },
        {
            content: "A failure column holds the failed run",
            trigger: ".o_kanban_group:contains('Failure') .o_kanban_record:contains('Tour CI')",
            run: "click",
        },
        {
            content: "The run's form lists its jobs with the failed step",
            trigger: ".o_form_view .o_field_one2many td:contains('Run tests')",
        },
        {
            content: "Open a job",
            trigger: ".o_form_view .o_field_one2many .o_data_row td[name='name']:contains('unit')",
            run: "click",
        },
        {
            content: "The job shows its steps",
            trigger: ".o_ops_job_steps tr.table-danger td:contains('Run tests')",
        },
    ],
});
