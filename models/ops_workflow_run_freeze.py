from odoo import api, fields, models

from ..autopilot.selfheal.decisions import workflow_matches


class OpsWorkflowRun(models.Model):
    """Deploy runs during a change freeze are flagged: a note in the run's chatter, counted on the dashboard.

    A deploy run is a run of one of the repository's deployment workflows
    (``ci_deployment_workflows``). Runs gain a chatter for that note only:
    creating one logs nothing and subscribes no one (the webhook path stays
    as light as before).
    """

    _name = "ops.workflow.run"
    _inherit = ["ops.workflow.run", "mail.thread"]

    freeze_window_id = fields.Many2one(
        "ops.freeze.window", string="Deployed during freeze", readonly=True, index="btree_not_null", ondelete="set null"
    )

    @api.model_create_multi
    def create(self, vals_list):
        quiet = self.with_context(mail_create_nolog=True, mail_create_nosubscribe=True, tracking_disable=True)
        return super(OpsWorkflowRun, quiet).create(vals_list).with_env(self.env)

    def _upsert_run(self, repository, run):
        record = super()._upsert_run(repository, run)
        record._freeze_flag_deploy()
        return record

    def _freeze_flag_deploy(self):
        """Flag this run if it deploys while its repository is frozen (once)."""
        for run in self:
            repo = run.repository_id
            patterns = repo.ci_deployment_workflows
            if run.freeze_window_id or not patterns or not workflow_matches(patterns, run.name, run.workflow_path):
                continue
            moment = run.started_at or fields.Datetime.now()
            self.env["ops.freeze.window"]._flag_if_frozen(run, repo, moment)
