/** @odoo-module **/
import { registry } from "@web/core/registry";
import { rpc } from "@web/core/network/rpc";

/*
 * A new user's first hour: dashboard -> failed run -> excerpt and diagnosis -> paste a log ->
 * incident timeline -> approve a remediation that shows its request -> target history -> report PDF.
 * The records are made by tests/test_ui_first_hour.py through the addon's real paths.
 */
const PASTED_LOG = [
    "2026-01-05T10:00:00.0000000Z ##[group]Run pip install -r requirements.txt",
    "2026-01-05T10:00:01.0000000Z Collecting requests==2.31.0",
    "2026-01-05T10:01:31.0000000Z ERROR: Could not install packages due to an OSError: HTTPSConnectionPool(host='files.pythonhosted.org', port=443): Read timed out. (read timeout=15)",
    "2026-01-05T10:01:31.0000000Z ##[error]Process completed with exit code 1.",
].join("\n");

function menu(xmlid) {
    return {
        content: `Open the menu ${xmlid}`,
        trigger: `.o_menu_sections [data-menu-xmlid='ops_autopilot.${xmlid}']`,
        run: "click",
    };
}

function submenu(xmlid) {
    return {
        content: `Open ${xmlid}`,
        trigger: `.o-dropdown--menu [data-menu-xmlid='ops_autopilot.${xmlid}']`,
        run: "click",
    };
}

registry.category("web_tour.tours").add("ops_autopilot_first_hour", {
    url: "/odoo",
    steps: () => [
        // 1. the dashboard is home
        {
            content: "After login the user lands on the Ops Autopilot dashboard",
            trigger: ".o_ops_dashboard .o_ops_tiles",
        },
        // 2. a failed run, its excerpt and diagnosis
        menu("menu_ops_cicd"),
        submenu("menu_ops_workflow_runs"),
        {
            content: "The failed run is listed",
            trigger: ".o_list_view .o_data_row td[name='name']:contains('First hour CI')",
            run: "click",
        },
        {
            content: "Open the run's diagnosis",
            trigger: ".o_form_view .o_notebook a[name='diagnosis']",
            run: "click",
        },
        {
            content: "The run's form shows the diagnosis with the failing line highlighted",
            trigger: ".o_form_view .o_ops_failing_line:contains('FAILED tests/test_invoice.py')",
        },
        {
            content: "... and links to the failed step's log on GitHub",
            trigger: ".o_form_view a[href*='#step:']",
        },
        menu("menu_ops_cicd"),
        submenu("menu_ops_workflow_jobs"),
        {
            content: "Open the failed job of that run",
            trigger:
                ".o_list_view .o_data_row:has(td[name='workflow_name']:contains('First hour CI')) td[name='name']:contains('unit')",
            run: "click",
        },
        {
            content: "Open the job's diagnosis",
            trigger: ".o_form_view .o_notebook a[name='diagnosis']",
            run: "click",
        },
        {
            content: "The job shows the same excerpt",
            trigger: ".o_form_view .o_ops_failing_line:contains('assert 117 == 118')",
        },
        // 3. paste a log
        {
            content: "Paste a log on the job",
            trigger: ".o_form_view button[name='action_open_log_paste']",
            run: "click",
        },
        {
            content: "Paste the log of another attempt",
            trigger: ".modal div[name='log_text'] textarea",
            // a function, not "edit ...": the action string is one line
            async run(helpers) {
                await helpers.edit(PASTED_LOG);
            },
        },
        {
            content: "Diagnose it",
            trigger: ".modal button[name='action_diagnose']",
            run: "click",
        },
        {
            content: "It is diagnosed at once, the failing line highlighted",
            trigger: ".modal .o_ops_failing_line:contains('Read timed out')",
        },
        {
            content: "Close the wizard",
            trigger: ".modal .modal-footer button:contains('Close')",
            run: "click",
        },
        // 4. the incident's timeline says what really happened
        {
            content: "The wizard is closed",
            trigger: "body:not(:has(.modal))",
        },
        menu("menu_ops_monitoring"),
        submenu("menu_ops_incidents"),
        {
            content: "Open the incident of the shop that is down",
            trigger: ".o_kanban_record:contains('First hour shop: down')",
            run: "click",
        },
        {
            content: "Open its timeline",
            trigger: ".o_form_view .o_notebook a[name='timeline']",
            run: "click",
        },
        {
            content: "The timeline says nobody was paged, and why",
            trigger: ".o_ops_incident_timeline:contains('Not paged: no routing key configured')",
        },
        {
            content: "... and that auto-heal waits for a manager's approval",
            trigger: ".o_ops_incident_timeline:contains('approval')",
        },
        // 5. approve a remediation that shows its request first
        {
            content: "Open the incident's remediation",
            trigger: ".o_form_view button[name='action_view_remediation']",
            run: "click",
        },
        {
            content: "Open the restart that waits for approval",
            trigger: ".o_list_view .o_data_row td[name='kind']:contains('Restart service')",
            run: "click",
        },
        {
            content: "What will run is shown before approval: the hook's method and URL",
            trigger: ".o_form_view div[name='request_preview']:contains('POST http://127.0.0.1:')",
        },
        {
            content: "Approve",
            trigger: ".o_form_view .o_form_statusbar button[name='action_approve']",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "The restart ran and says so",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Succeeded')",
        },
        // 6. the target's history
        menu("menu_ops_monitoring"),
        submenu("menu_ops_health_targets"),
        {
            content: "The shop's card has labelled figures and sparklines",
            trigger: ".o_kanban_record:contains('First hour shop') .o_ops_spark_uptime",
        },
        {
            content: "Open the shop",
            trigger:
                ".o_kanban_record:contains('First hour shop') .o_kanban_record_title, .o_kanban_record:contains('First hour shop')",
            run: "click",
        },
        {
            content: "Its form opens on the history chart",
            trigger: ".o_form_view .o_ops_target_history canvas",
        },
        {
            content: "Look at the last 7 days",
            trigger: ".o_ops_target_history button[data-period='7d']",
            run: "click",
        },
        {
            content: "The 7-day history is shown",
            trigger: ".o_ops_target_history button[data-period='7d'].active",
        },
        // 7. the weekly report as a PDF
        menu("menu_ops_dashboard"),
        {
            content: "The dashboard has its report buttons",
            trigger: ".o_ops_dashboard .o_ops_print_pdf",
        },
        {
            content: "The weekly report is a real PDF (or, without wkhtmltopdf, HTML saying what PDF needs)",
            trigger: ".o_ops_dashboard .o_ops_print_pdf",
            async run() {
                const state = await rpc("/report/check_wkhtmltopdf");
                const options = encodeURIComponent(JSON.stringify({ filters: { period: "7d" } }));
                const context = encodeURIComponent(JSON.stringify({ force_report_rendering: true }));
                if (!["ok", "upgrade"].includes(state)) {
                    const html = await fetch(`/report/html/ops_autopilot.report_ops_health?options=${options}`);
                    if (!(await html.text()).includes("PDF is not available")) {
                        throw new Error(`no PDF (${state}) and the HTML report does not say why`);
                    }
                    return;
                }
                const answer = await fetch(
                    `/report/pdf/ops_autopilot.report_ops_health?options=${options}&context=${context}`
                );
                const head = new TextDecoder().decode((await answer.arrayBuffer()).slice(0, 5));
                if (answer.status !== 200 || head !== "%PDF-") {
                    throw new Error(`the weekly report is not a PDF: HTTP ${answer.status}, starts with ${head}`);
                }
            },
        },
    ],
});
