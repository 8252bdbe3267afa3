import logging
from collections import defaultdict

from odoo import api, fields, models

from ..autopilot.delivery import cost

_logger = logging.getLogger(__name__)

#: jobs priced per batch of the cost cron's backfill
BACKFILL_BATCH = 2000


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

    @api.model
    def _upsert_job(self, repository, job):
        record = super()._upsert_job(repository, job)
        record.filtered(lambda j: j.status == "completed")._ops_price()
        return record

    def _ops_price(self, rates=None):
        """Write minutes and cost of these completed jobs: one ``write`` per distinct (type, minutes, cost)."""
        if not self:
            return
        rates = self.env["ops.ci.rate"]._engine_rates() if rates is None else rates
        groups = defaultdict(list)
        for job in self:
            if job.source != "workflow_job":
                key = (False, 0, 0.0)
            else:
                priced = cost.job_cost(job.duration, job.labels, rates)
                key = (priced.runner_type, priced.billable_minutes, priced.cost)
            groups[key].append(job.id)
        for (runner_type, minutes, price), ids in groups.items():
            self.browse(ids).sudo().write(
                {"runner_type": runner_type, "billable_minutes": minutes, "cost": price, "cost_priced": True}
            )

    @api.model
    def _cost_backfill_domain(self):
        return [("cost_priced", "=", False), ("status", "=", "completed")]

    @api.model
    def _cron_backfill_cost(self, batch_size=BACKFILL_BATCH, max_batches=None):
        """Price completed jobs that have no cost yet, a batch at a time (committed per batch)."""
        rates = self.env["ops.ci.rate"]._engine_rates()
        done = batches = 0
        while max_batches is None or batches < max_batches:
            batch = self.sudo().search(self._cost_backfill_domain(), order="id", limit=batch_size)
            if not batch:
                break
            batch._ops_price(rates)
            self.env["ops.cron.mixin"]._ops_commit()
            done += len(batch)
            batches += 1
            if len(batch) < batch_size:
                break
        if done:
            _logger.info("priced %s jobs", done)
        return done
