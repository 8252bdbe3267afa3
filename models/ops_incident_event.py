from odoo import fields, models

EVENT_STEPS = [
    ("auto_heal", "Auto-heal"),
    ("github_issue", "GitHub issue"),
    ("on_call", "Notify on-call"),
    ("page", "Page"),
    ("acknowledge", "Acknowledged"),
    ("resolve", "Resolved"),
]
EVENT_OUTCOMES = [
    ("done", "Done"),
    ("skipped", "Not done"),
    ("failed", "Failed"),
    ("retry", "Failed, tried again later"),
]


class OpsIncidentEvent(models.Model):
    """One step of an incident's escalation ladder as it really happened: the incident's timeline.

    Written by the escalation code at the moment a step is taken, never
    edited afterwards: ``summary`` says what was done ("GitHub issue #12
    opened", "Notified: Marc Demo", "Paged, dedup key health:7:down") or why
    not ("Not paged: no routing key configured"), ``reference`` what it points
    at (the issue URL, the dedup key). The same text goes to the chatter.
    """

    _name = "ops.incident.event"
    _description = "Incident Timeline Event"
    _order = "at, id"
    _rec_name = "summary"

    incident_id = fields.Many2one("ops.incident", required=True, ondelete="cascade", index=True, readonly=True)
    company_id = fields.Many2one(related="incident_id.company_id", store=True, index=True)
    at = fields.Datetime(string="When", required=True, default=fields.Datetime.now, readonly=True)
    step = fields.Selection(EVENT_STEPS, required=True, readonly=True)
    outcome = fields.Selection(EVENT_OUTCOMES, required=True, default="done", readonly=True)
    summary = fields.Char(string="What happened", required=True, readonly=True)
    reference = fields.Char(readonly=True, help="What the step points at: issue URL, dedup key, users")
