from odoo import _, fields, models
from odoo.exceptions import ValidationError

from .ops_params import DEFAULTS, PREFIX, ZERO_ALLOWED


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ops_delivery_batch_size = fields.Integer(
        string="Deliveries per batch",
        config_parameter="ops_autopilot.delivery_batch_size",
        default=DEFAULTS["delivery_batch_size"],
    )
    ops_delivery_max_attempts = fields.Integer(
        string="Processing attempts",
        config_parameter="ops_autopilot.delivery_max_attempts",
        default=DEFAULTS["delivery_max_attempts"],
    )
    ops_delivery_retention_days = fields.Integer(
        string="Keep processed deliveries (days)",
        config_parameter="ops_autopilot.delivery_retention_days",
        default=DEFAULTS["delivery_retention_days"],
    )
    ops_delivery_ack_after_flush = fields.Boolean(
        string="Always wait for the disk flush",
        config_parameter="ops_autopilot.delivery_ack_after_flush",
        default=DEFAULTS["delivery_ack_after_flush"],
        help="Answer GitHub only once PostgreSQL has flushed a delivery to disk. Unticked, a repository whose "
        "delivery log on GitHub was checked within 24 hours is answered once its delivery is committed: a "
        "database crash can then lose the last fraction of a second of deliveries, and the next sync asks "
        "GitHub to send them again.",
    )
    ops_github_timeout_seconds = fields.Integer(
        string="GitHub API timeout (s)",
        config_parameter="ops_autopilot.github_timeout_seconds",
        default=DEFAULTS["github_timeout_seconds"],
    )
    ops_sync_lookback_days = fields.Integer(
        string="First sync looks back (days)",
        config_parameter="ops_autopilot.sync_lookback_days",
        default=DEFAULTS["sync_lookback_days"],
    )

    def _ops_numeric_settings(self):
        """``(field, parameter name, value)`` of this addon's numeric settings."""
        for name, field in self._fields.items():
            parameter = getattr(field, "config_parameter", None) or ""
            if parameter.startswith(PREFIX) and field.type in ("integer", "float"):
                yield field, parameter[len(PREFIX) :], self[name]

    def set_values(self):
        """Refuse negative numbers and a 0 that would stop the work; store a 0 that is a choice.

        Odoo's settings delete a numeric parameter set to 0, and reading it
        then gives the default: a token budget of 0 ("no AI spend") came back
        as 2,000,000. Here a 0 is stored as "0" where it means something
        (``ZERO_ALLOWED``) and refused elsewhere.
        """
        for field, name, value in self._ops_numeric_settings():
            if value < 0 or (value == 0 and name not in ZERO_ALLOWED):
                raise ValidationError(
                    _("%(setting)s must be more than 0 (it is %(value)s).", setting=field.string, value=value)
                )
        result = super().set_values()
        parameters = self.env["ir.config_parameter"].sudo()
        for _field, name, value in self._ops_numeric_settings():
            if value == 0:
                parameters.set_param(PREFIX + name, "0")
        return result
