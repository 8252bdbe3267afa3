import logging
import time
from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import SQL

from ..autopilot.delivery import cost

_logger = logging.getLogger(__name__)

#: jobs priced per batch of the cost cron's backfill
BACKFILL_BATCH = 2000
#: the backfill stops after this many seconds and asks for another cron run
BACKFILL_SECONDS = 60


class OpsWorkflowJob(models.Model):
    """What a job cost: whole minutes billed on its runner and their price, written when it completes.

    Written, not computed: a job keeps the rate of the day it ran when
    managers change the rates later. Jobs recorded before this existed (or
    while the cron was behind) are priced by the cost cron in batches
    (:meth:`_cron_backfill_cost`). Check runs of other CI apps cost no GitHub
    Actions minute.
    """

    _inherit = "ops.workflow.job"

    runner_type = fields.Char(readonly=True, help="Runner type its labels matched in the rate table")
    billable_minutes = fields.Integer(
        readonly=True, aggregator="sum", help="Minutes GitHub bills: the duration rounded up to the whole minute"
    )
    cost = fields.Float(string="Cost (USD)", digits=(12, 4), readonly=True, aggregator="sum")
    cost_priced = fields.Boolean(readonly=True, index=True, copy=False, help="Minutes and cost written")
    cost_superseded = fields.Boolean(
        string="Re-run",
        readonly=True,
        copy=False,
        help="A later attempt of its run exists: its minutes were paid again",
    )

    def init(self):
        """The cost panel's scans of a period's priced jobs read this index only (no table access once vacuumed)."""
        self.env.cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS ops_workflow_job_cost_started_index ON ops_workflow_job (started_at)"
                " INCLUDE (cost, billable_minutes, repository_id, company_id, cost_superseded, outcome, workflow_name)"
                " WHERE cost_priced"
            )
        )

    @api.model
    def _upsert_job(self, repository, job):
        record = super()._upsert_job(repository, job)
        record.filtered(lambda j: j.status == "completed")._ops_price()._ops_supersede_earlier_attempts()
        return record

    def _ops_price(self, rates=None):
        """Write minutes, cost and re-run flag of these completed jobs: one ``write`` per distinct value set.

        Returns the jobs. Their runs are read in one query (prefetch), whatever their number.
        """
        if not self:
            return self
        rates = self.env["ops.ci.rate"]._engine_rates() if rates is None else rates
        groups = defaultdict(list)
        for job in self:
            superseded = cost.lost_reason(job.run_attempt, job.run_id.run_attempt, None) == cost.LOST_RERUN
            if job.source != "workflow_job":
                key = (False, 0, 0.0, superseded)
            else:
                priced = cost.job_cost(job.duration, job.labels, rates)
                key = (priced.runner_type, priced.billable_minutes, priced.cost, superseded)
            groups[key].append(job.id)
        for (runner_type, minutes, price, superseded), ids in groups.items():
            self.browse(ids).sudo().write(
                {
                    "runner_type": runner_type,
                    "billable_minutes": minutes,
                    "cost": price,
                    "cost_priced": True,
                    "cost_superseded": superseded,
                }
            )
        return self

    def _ops_supersede_earlier_attempts(self):
        """A job of attempt N makes the jobs of its run's earlier attempts re-run minutes (one statement)."""
        for job in self:
            if job.run_attempt and job.run_attempt > 1:
                self.env.cr.execute(
                    SQL(
                        "UPDATE ops_workflow_job SET cost_superseded = TRUE"
                        " WHERE run_id = %s AND run_attempt < %s AND cost_superseded IS NOT TRUE",
                        job.run_id.id,
                        job.run_attempt,
                    )
                )
                if self.env.cr.rowcount:
                    self.invalidate_model(["cost_superseded"])

    @api.model
    def _cost_backfill_domain(self):
        return [("cost_priced", "=", False), ("status", "=", "completed")]

    @api.model
    def _cron_backfill_cost(self, batch_size=BACKFILL_BATCH, max_batches=None, budget_seconds=BACKFILL_SECONDS):
        """Price completed jobs that have no cost yet, a batch at a time (committed per batch).

        Stops after ``budget_seconds`` (a cron worker is killed past its time limit; what is
        committed stays) and runs the cost cron again at once for the rest.
        """
        rates = self.env["ops.ci.rate"]._engine_rates()
        Mixin = self.env["ops.cron.mixin"]
        deadline = time.monotonic() + budget_seconds
        done = batches = 0
        while max_batches is None or batches < max_batches:
            batch = self.sudo().search(self._cost_backfill_domain(), order="id", limit=batch_size)
            if not batch:
                break
            batch._ops_price(rates)
            Mixin._ops_commit()
            done += len(batch)
            batches += 1
            if len(batch) < batch_size:
                break
            if time.monotonic() > deadline:
                remaining = self.sudo().search_count(self._cost_backfill_domain())
                Mixin._ops_notify_progress(done=done, remaining=remaining)
                if remaining and not Mixin._ops_in_test():
                    Mixin._ops_trigger_soon("ops_autopilot.ir_cron_cost")
                break
        if done:
            _logger.info("priced %s jobs", done)
        return done
