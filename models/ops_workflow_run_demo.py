from odoo import api, fields, models

from ..autopilot.selfheal import logs


class OpsWorkflowRun(models.Model):
    """Demo data diagnosed by the engine itself: the demo shows what a real failure would show."""

    _inherit = "ops.workflow.run"

    @api.model
    def _demo_diagnose(self, job_id, log):
        """Diagnose demo job ``job_id`` from ``log`` through the cron's path, then decide as the cron would.

        Demo repositories have no token: the log the cron would fetch is given
        here instead; everything after it (excerpt, rules, classifier,
        fingerprint, signature, flakiness, decision, escalation) is the real code.
        """
        job = self.env["ops.workflow.job"].sudo().browse(job_id)
        run = job.run_id
        lines = logs.clean_log(log)
        diagnosis = run._ci_diagnose_job(
            job, None, run._ci_engine_context(), log=(lines, len(log.encode()), False, "available", False)
        )
        run._ci_detect_flaky()
        vals = {"ci_processed_attempt": run.run_attempt, "ci_error": False, "ci_next_attempt_at": False}
        if run.outcome == "failure":
            vals.update(run._ci_decide(diagnosis))
        run.write(vals)
        run._ci_store_report()
        return diagnosis.id

    @api.model
    def _demo_quarantine(self, job_id, reason, days=14):
        """The job's failure passed on a retry of the same commit: flag it flaky and quarantine it."""
        job = self.env["ops.workflow.job"].sudo().browse(job_id)
        job.run_id._ci_detect_flaky()
        signatures = self.env["ops.job.diagnosis"].sudo().search([("job_id", "=", job.id)]).signature_id
        for signature in signatures.filtered("flaky"):
            signature.write(
                {
                    "quarantined": True,
                    "quarantine_user_id": self.env.ref("base.user_admin").id,
                    "quarantine_reason": reason,
                    "quarantine_until": fields.Date.add(fields.Date.context_today(self), days=days),
                }
            )
        return signatures.ids
