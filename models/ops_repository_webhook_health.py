from datetime import timedelta

from markupsafe import Markup

from odoo import api, fields, models

from ..autopilot.github import permissions
from .ops_webhook_refusal import REFUSAL_REASONS

#: a checklist line: its mark, and the Bootstrap text class of that mark
MARKS = {"ok": ("✔", "text-success"), "todo": ("✘", "text-danger"), "warn": ("!", "text-warning")}


def humanise_age(env, then, now=None):
    """``"less than 1 min ago"``, ``"24 min ago"``, ``"1 h 05 min ago"``, ``"3 days ago"``."""
    minutes = int(((now or fields.Datetime.now()) - then).total_seconds() // 60)
    if minutes < 1:
        return env._("less than 1 min ago")
    if minutes < 60:
        return env._("%s min ago", minutes)
    if minutes < 48 * 60:
        return env._("%(hours)s h %(minutes)02d min ago", hours=minutes // 60, minutes=minutes % 60)
    return env._("%s days ago", minutes // (24 * 60))


class OpsRepository(models.Model):
    """Webhook health: what the endpoint refused for this repository, and whether its set-up is complete."""

    _inherit = "ops.repository"

    webhook_refusal_ids = fields.One2many(
        "ops.webhook.refusal", "repository_id", string="Last refused deliveries", readonly=True
    )
    refused_24h_count = fields.Integer(string="Refused (24 h)", compute="_compute_webhook_health")
    webhook_refusals_24h_html = fields.Html(string="Refused in the last 24 h", compute="_compute_webhook_health")
    last_delivery_at = fields.Datetime(string="Last delivery accepted", compute="_compute_webhook_health")
    webhook_checklist_html = fields.Html(string="Set-up checklist", compute="_compute_webhook_health")

    @api.depends("token_check", "hook_id", "hook_verified_at")
    def _compute_webhook_health(self):
        since = fields.Datetime.now() - timedelta(hours=24)
        counts = {}
        for repo, reason, total in (
            self.env["ops.webhook.refusal.hour"]
            .sudo()
            ._read_group(
                [("repository_id", "in", self.ids), ("hour", ">", since)], ["repository_id", "reason"], ["count:sum"]
            )
        ):
            counts.setdefault(repo.id, {})[reason] = total
        last = dict(
            self.env["ops.webhook.delivery"]
            .sudo()
            ._read_group([("repository_id", "in", self.ids)], ["repository_id"], ["received_at:max"])
        )
        labels = dict(self.env["ops.webhook.refusal"]._fields["reason"]._description_selection(self.env))
        for repo in self:
            mine = counts.get(repo.id, {})
            repo.refused_24h_count = sum(mine.values())
            repo.last_delivery_at = last.get(repo) or False
            repo.webhook_refusals_24h_html = (
                Markup('<table class="table table-sm o_ops_refusal_counts"><tbody>%s</tbody></table>')
                % Markup("").join(
                    Markup('<tr><td>%s</td><td class="text-end">%s</td></tr>') % (labels[code], mine[code])
                    for code, _label in REFUSAL_REASONS
                    if mine.get(code)
                )
                if mine
                else False
            )
            repo.webhook_checklist_html = repo._webhook_checklist_html()

    def _webhook_checklist_html(self):
        """The set-up checklist: secret, hook verified by a ping, token and what it can do, last delivery."""
        self.ensure_one()
        env = self.env
        lines = []
        if self.has_webhook_secret:
            lines.append(("ok", env._("Webhook secret set")))
        else:
            lines.append(("todo", env._("No webhook secret: generate one and give the same to GitHub's hook")))
        if self.hook_verified_at:
            lines.append(
                (
                    "ok",
                    env._(
                        "Hook %(hook)s verified by a ping %(ago)s",
                        hook=self.hook_id or "",
                        ago=humanise_age(env, self.hook_verified_at),
                    ),
                )
            )
        else:
            lines.append(
                (
                    "todo",
                    env._(
                        "No ping received: create the hook on GitHub with the payload URL and secret above (it sends "
                        "a ping), or redeliver its ping"
                    ),
                )
            )
        lines.append(self._token_checklist_line())
        if self.last_delivery_at:
            lines.append(("ok", env._("Last delivery accepted %s", humanise_age(env, self.last_delivery_at))))
        else:
            lines.append(("todo", env._("No delivery accepted yet")))
        if self.refused_24h_count:
            lines.append(
                ("warn", env._("%s deliveries refused in the last 24 h: see below why", self.refused_24h_count))
            )
        return Markup('<ul class="list-unstyled o_ops_webhook_checklist">%s</ul>') % Markup("").join(
            Markup('<li><span class="%s me-2">%s</span>%s</li>') % (MARKS[state][1], MARKS[state][0], text)
            for state, text in lines
        )

    def _token_checklist_line(self):
        env = self.env
        if not self.has_token:
            return "todo", env._("No API token: runs are not synced and lost deliveries are not asked again")
        features = [
            line for line in (self.token_check or {}).get("features") or [] if line.get("state") != "not_applicable"
        ]
        if not features:
            return "warn", env._("Token not checked yet: use Check token in the Credentials tab")
        served = [line for line in features if line.get("state") == "ok"]
        missing = [
            permissions.BY_KEY[line["feature"]].label if line.get("feature") in permissions.BY_KEY else line["feature"]
            for line in features
            if line.get("state") != "ok"
        ]
        text = env._("Token serves %(ok)s of %(total)s features", ok=len(served), total=len(features))
        if missing:
            text = env._("%(text)s; not: %(missing)s", text=text, missing=", ".join(missing))
        return ("ok" if not missing else "warn"), text
