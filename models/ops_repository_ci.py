from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..autopilot.selfheal import decisions


class OpsRepository(models.Model):
    """Self-healing CI and change-routing settings of a repository."""

    _inherit = "ops.repository"

    ci_auto_retry = fields.Boolean(
        string="Re-run transient failures",
        default=True,
        help="Re-run the failed jobs of a run whose every failure is transient (network, runner resources, "
        "known flaky), with exponential backoff",
    )
    ci_max_retries = fields.Integer(
        string="Maximum re-runs",
        default=decisions.DEFAULT_MAX_RETRIES,
        help="Re-runs of one run before its failure is escalated",
    )
    ci_auto_rollback = fields.Boolean(
        string="Roll back failed deployments",
        help="When a deployment workflow fails, dispatch the rollback workflow with the last successful commit",
    )
    ci_deployment_workflows = fields.Char(
        string="Deployment workflows",
        help="Workflow names or files (globs, comma separated) that deploy, e.g. deploy.yml, release-*.yml",
    )
    ci_rollback_workflow = fields.Char(
        string="Rollback workflow", help="Workflow file dispatched with the input 'sha', e.g. rollback.yml"
    )
    ci_dispatch_routed_workflows = fields.Boolean(
        string="Dispatch routed workflows",
        help="Dispatch the target workflows the change router picks for each push and pull request",
    )
    ci_open_github_issues = fields.Boolean(
        string="Open GitHub issues",
        default=True,
        help="Open one issue (label workflow-automation) per unrecoverable failure signature, comment on recurrences",
    )
    ci_flaky_count = fields.Integer(string="Flaky failures", compute="_compute_ci_flaky_count")

    @api.constrains("ci_max_retries")
    def _check_ci_max_retries(self):
        for repo in self:
            if not 0 <= repo.ci_max_retries <= 10:
                raise ValidationError(_("Maximum re-runs must be between 0 and 10."))

    def _compute_ci_flaky_count(self):
        groups = self.env["ops.failure.signature"]._read_group(
            [("repository_id", "in", self.ids), ("flaky", "=", True)], ["repository_id"], ["__count"]
        )
        counts = {repo.id: count for repo, count in groups}
        for repo in self:
            repo.ci_flaky_count = counts.get(repo.id, 0)

    def action_view_flaky(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("ops_autopilot.ops_failure_signature_action")
        action["domain"] = [("repository_id", "in", self.ids), ("flaky", "=", True)]
        return action
