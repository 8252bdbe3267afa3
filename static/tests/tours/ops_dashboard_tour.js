/** @odoo-module **/
import { registry } from "@web/core/registry";

function assertUrl(...fragments) {
    // the router writes the URL a moment after the state changes: wait for it (5 s at most)
    return async function () {
        for (let attempt = 0; attempt < 50; attempt++) {
            const url = decodeURIComponent(window.location.href);
            if (fragments.every((fragment) => url.includes(fragment))) {
                return;
            }
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
        throw new Error(`The URL ${window.location.href} does not keep ${fragments.join(", ")}`);
    };
}

registry.category("web_tour.tours").add("ops_autopilot_dashboard_tour", {
    url: "/odoo",
    steps: () => [
        {
            content: "Open the apps menu",
            trigger: ".o_navbar_apps_menu button",
            run: "click",
        },
        {
            content: "Open the Ops Autopilot app: its first screen is the dashboard",
            trigger: ".o_app[data-menu-xmlid='ops_autopilot.menu_ops_autopilot_root']",
            run: "click",
        },
        {
            content: "KPI tiles show values with their targets",
            trigger: ".o_ops_tile[data-kpi='avg_build_time'] .o_ops_tile_target:contains('< 10 min')",
        },
        {
            content: "A KPI without data says so",
            trigger: ".o_ops_tile[data-kpi='cache_hit_rate'] .o_ops_tile_value:contains('no data')",
        },
        {
            content: "Charts are drawn",
            trigger: ".o_ops_chart[data-chart='runs'] canvas",
        },
        {
            content: "Switch to 30 days",
            trigger: ".o_ops_period button[data-period='30d']",
            run: "click",
        },
        {
            content: "30 days is the period",
            trigger: ".o_ops_period button.active[data-period='30d']",
        },
        {
            content: "Filter on the tour repository",
            trigger: ".o_ops_filter_repository",
            async run(helpers) {
                const option = [...this.anchor.options].find((o) => o.textContent.includes("acme/tour"));
                await helpers.select(option.value, this.anchor);
            },
        },
        {
            content: "Its failing workflow is listed",
            trigger: ".o_ops_list_failing .o_ops_failing_row:contains('Tour build')",
        },
        {
            content: "The filters are in the URL",
            trigger: ".o_ops_scope_repository:contains('acme/tour')",
            run: assertUrl("period=30d", "repository_id="),
        },
        {
            content: "Reload the page",
            trigger: ".o_ops_period button.active[data-period='30d']",
            async run(helpers) {
                await helpers.goToUrl(window.location.pathname + window.location.search);
            },
        },
        {
            content: "After the reload the filters are restored",
            trigger: ".o_ops_scope_repository:contains('acme/tour')",
        },
        {
            content: "Still 30 days",
            trigger: ".o_ops_period button.active[data-period='30d']",
        },
        {
            content: "Switch to custom dates: they start from the days on screen",
            trigger: ".o_ops_period button[data-period='custom']",
            run: "click",
        },
        {
            content: "The custom period is applied and kept in the URL",
            trigger: ".o_ops_period button.active[data-period='custom']",
            run: assertUrl("period=custom", "date_from=", "date_to=", "repository_id="),
        },
        {
            content: "Its dates can be edited",
            trigger: "input.o_ops_date_from",
        },
        {
            content: "The build-time tile is computed from the tour runs",
            trigger: ".o_ops_tile[data-kpi='avg_build_time'] .o_ops_tile_value:contains('20 min')",
        },
        {
            content: "Click the build-time tile",
            trigger: ".o_ops_tile[data-kpi='avg_build_time']",
            run: "click",
        },
        {
            content: "The runs behind it are listed",
            trigger: ".o_list_view .o_data_row td[name='name']:contains('Tour build')",
        },
        {
            content: "Back to the dashboard",
            trigger: ".o_breadcrumb .breadcrumb-item a",
            run: "click",
        },
        {
            content: "The dashboard kept its filters",
            trigger: ".o_ops_period button.active[data-period='custom']",
        },
        {
            content: "Open the health report",
            trigger: ".o_ops_print_html",
            run: "click",
        },
        {
            content: "The report shows the KPIs and the CI summary",
            trigger: ":iframe .o_ops_health_report .o_ops_report_ci_summary",
        },
        {
            content: "and the recommendations",
            trigger: ":iframe .o_ops_report_recommendations li:contains('Stabilise workflow Tour build')",
        },
    ],
});
