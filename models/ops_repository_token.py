from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..autopilot.common.errors import ServiceError
from ..autopilot.github import permissions

STATE_LABELS = {
    "ok": "✔",
    "unchecked": "?",
    "missing": "✘",
    "not_applicable": "-",
    "error": "!",
}


class OpsRepository(models.Model):
    """Which features the repository's API token can serve: checked on demand, and learnt from refusals."""

    _inherit = "ops.repository"

    token_check = fields.Json(copy=False, readonly=True, help="The last check of the token, feature by feature")
    token_check_html = fields.Html(string="Token permissions", compute="_compute_token_check_html")

    @api.depends("token_check")
    def _compute_token_check_html(self):
        for repo in self:
            lines = (repo.token_check or {}).get("features") or []
            if not lines:
                repo.token_check_html = False
                continue
            rows = Markup("").join(
                Markup("<tr><td>%s</td><td>%s</td><td>%s</td></tr>")
                % (
                    STATE_LABELS.get(line.get("state"), "?"),
                    permissions.BY_KEY[line["feature"]].label if line.get("feature") in permissions.BY_KEY else "",
                    line.get("detail") or "",
                )
                for line in lines
            )
            checked = escape((repo.token_check or {}).get("checked_at") or "")
            repo.token_check_html = Markup(
                '<table class="table table-sm o_ops_token_check"><tbody>%s</tbody></table><small>%s</small>'
            ) % (rows, checked)

    def write(self, vals):
        if "token" in vals and "token_check" not in vals:
            vals = dict(vals, token_check=False)  # another token: what the last one could do no longer says anything
        return super().write(vals)

    def action_check_token(self):
        """Ask GitHub, without changing anything there, which features the token can serve."""
        if not self.env.user.has_group("ops_autopilot.group_ops_manager"):
            raise AccessError(_("Only Ops Managers can check the API token."))
        for repo in self:
            if not repo.has_token:
                raise UserError(_("%s has no API token to check.", repo.full_name))
            try:
                checks = permissions.check_token(
                    repo._github_client(),
                    repo.full_name,
                    hook_id=repo.hook_id or None,
                    organization_hook=repo.hook_scope == "organization",
                )
            except ServiceError as exc:
                raise UserError(
                    _("GitHub could not be asked about %(repo)s: %(error)s", repo=repo.full_name, error=exc)
                ) from None
            repo.sudo().token_check = {
                "checked_at": fields.Datetime.to_string(fields.Datetime.now()),
                "features": [{"feature": c.feature, "state": c.state, "detail": c.detail} for c in checks],
            }
        return True

    def _token_refused(self, feature, error):
        """Record on the token check that GitHub refused ``feature`` for lack of the permissions ``error`` names."""
        if not getattr(error, "permissions", None):
            return
        wanted = " or ".join(", ".join(alternative) for alternative in error.permissions)
        for repo in self:
            check = dict(repo.token_check or {})
            lines = [line for line in check.get("features") or [] if line.get("feature") != feature]
            lines.append({"feature": feature, "state": "missing", "detail": _("refused by GitHub: needs %s", wanted)})
            order = {f.key: index for index, f in enumerate(permissions.FEATURES)}
            check["features"] = sorted(lines, key=lambda line: order.get(line.get("feature"), len(order)))
            repo.sudo().token_check = check
