import base64
import binascii

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .. import const
from ..autopilot.common.masking import mask_secrets
from ..autopilot.selfheal import excerpt_view, logs
from ..autopilot.selfheal.diagnosis import diagnose_excerpt

#: only the end of a pasted or uploaded log is kept: the failure is at the end
MAX_LOG_BYTES = 10 * 1024 * 1024
MAX_LOG_LINES = 20_000


class OpsJobLogPaste(models.TransientModel):
    """Diagnose a log a person pastes or uploads, with the engine the diagnosis cron uses.

    Opened from a job, the result is stored as that job's diagnosis (and
    fingerprinted like a fetched log); opened alone, it is only shown here.
    """

    _name = "ops.job.log.paste"
    _description = "Diagnose a pasted CI log"

    job_id = fields.Many2one("ops.workflow.job", ondelete="cascade", readonly=True)
    log_text = fields.Text(string="Log", help="Paste the job's log (the end is enough)")
    log_file = fields.Binary(string="Or upload the log file", attachment=False)
    log_filename = fields.Char()
    state = fields.Selection([("draft", "To diagnose"), ("done", "Diagnosed")], default="draft", required=True)
    kept_note = fields.Char(string="Kept", readonly=True)
    diagnosis_id = fields.Many2one("ops.job.diagnosis", readonly=True, ondelete="set null")
    category = fields.Selection(const.FAILURE_CATEGORIES, readonly=True)
    confidence = fields.Float(readonly=True, digits=(16, 3))
    suggested_fix = fields.Text(readonly=True)
    signature = fields.Char(readonly=True)
    excerpt = fields.Text(readonly=True)
    result_html = fields.Html(string="Result", compute="_compute_result_html", sanitize=False)

    @api.depends("state", "diagnosis_id", "excerpt", "category", "confidence", "suggested_fix")
    def _compute_result_html(self):
        for wizard in self:
            if wizard.state != "done":
                wizard.result_html = False
            elif wizard.diagnosis_id:
                wizard.result_html = wizard.diagnosis_id.sudo()._render_cards()
            else:
                labels = dict(self._fields["category"]._description_selection(self.env))
                known = wizard.category != "unknown"
                card = {
                    "job": _("pasted log"),
                    "category": labels.get(wizard.category, wizard.category),
                    "confidence": f"{wizard.confidence:.0%}" if known else "",
                    "log_message": "",
                    "fix": wizard.suggested_fix or "",
                    "step": "",
                    "lines": excerpt_view.marked_lines(wizard.excerpt),
                    "url": "",
                }
                wizard.result_html = self.env["ir.qweb"]._render(
                    "ops_autopilot.ops_job_diagnosis_cards", {"cards": [card]}
                )

    def _read_log(self):
        """``(lines, size, truncated)`` of the pasted text or uploaded file (its last 10 MiB and 20,000 lines)."""
        self.ensure_one()
        if self.log_file:
            try:
                data = base64.b64decode(self.log_file, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise UserError(_("The uploaded file could not be read.")) from exc
        else:
            data = (self.log_text or "").encode("utf-8")
        size = len(data)
        truncated = size > MAX_LOG_BYTES
        lines = logs.clean_log(data[-MAX_LOG_BYTES:])
        if len(lines) > MAX_LOG_LINES:
            lines, truncated = lines[-MAX_LOG_LINES:], True
        if not any(line.strip() for line in lines):
            raise UserError(_("The log is empty: paste the job's log or upload its file, then diagnose it."))
        return lines, size, truncated

    def action_diagnose(self):
        self.ensure_one()
        if not self.env.su and not self.env.user.has_group("ops_autopilot.group_ops_user"):
            raise UserError(_("Only Ops users can diagnose logs."))
        lines, size, truncated = self._read_log()
        context = self.env["ops.workflow.run"].sudo()._ci_engine_context()
        vals = {
            "state": "done",
            "log_text": False,
            "log_file": False,
            "kept_note": (
                _("The end of the log only: its last %(mib)s MiB and %(lines)s lines were read.", mib=10, lines=20000)
                if truncated
                else _("The whole log (%(size)s bytes) was read.", size=size)
            ),
        }
        if self.job_id:
            job = self.job_id.sudo()
            diagnosis = job.run_id._ci_diagnose_job(
                job, None, context, log=(lines, size, truncated, "available", False)
            )
            diagnosis.decision = _("diagnosed from a log pasted by %s", self.env.user.name)
            vals["diagnosis_id"] = diagnosis.id
        else:
            found = diagnose_excerpt(logs.failure_excerpt(lines), rules=context["rules"], model=context["model"])
            vals.update(
                category=found.category,
                confidence=found.confidence,
                suggested_fix=found.suggested_fix,
                signature=found.signature or False,
                excerpt=mask_secrets("\n".join(found.excerpt))[0] or False,
            )
        self.write(vals)
        return {
            "type": "ir.actions.act_window",
            "name": _("Diagnose a log"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }
