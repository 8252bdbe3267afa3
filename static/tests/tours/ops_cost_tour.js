/** @odoo-module **/
import { registry } from "@web/core/registry";

// The dashboard's cost panel on the repository "acme/costtour" (tests/test_cost.py, TestUiCost)
registry.category("web_tour.tours").add("ops_autopilot_cost_tour", {
    steps: () => [
        {
            content: "The cost panel shows this period's CI cost: 60 + 2 billed minutes at $0.006",
            trigger: ".o_ops_cost_panel .o_ops_cost_ci:contains('0.37 USD')",
        },
        {
            content: "Minutes lost to failed jobs",
            trigger: ".o_ops_cost_panel .o_ops_cost_lost_failure:contains('2 min')",
        },
        {
            content: "The weekly cost chart is drawn",
            trigger: ".o_ops_cost_panel .o_ops_chart[data-chart='cost_weekly'] canvas",
        },
        {
            content: "The repository's budget: 0.37 of 0.40 USD, past 80 %",
            trigger: ".o_ops_cost_budget_row[data-state='warning']:contains('acme/costtour')",
        },
        {
            content: "The most expensive workflow opens its jobs",
            trigger: ".o_ops_cost_workflow_row:contains('Nightly')",
            run: "click",
        },
        {
            content: "Its jobs, with their minutes and cost",
            trigger: ".o_list_view .o_data_row td[name='name']:contains('soak')",
        },
    ],
});
