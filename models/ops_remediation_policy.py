import json

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..autopilot.monitoring import remediation


class OpsRemediationPolicy(models.Model):
    """How the autopilot may heal a target: which actions per condition, and the safety limits.

    A target points at one policy (several targets may share it). The
    policy's lines map a condition (down, slow, cpu, memory, error rate,
    Odoo-native) to an ordered list of actions, run as one remediation
    round; the limits below apply per target to those rounds. The engine
    (``autopilot.monitoring.remediation.decide``) takes the decision.
    """

    _name = "ops.remediation.policy"
    _description = "Remediation Policy"
    _order = "name"

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company, index=True)
    line_ids = fields.One2many("ops.remediation.policy.line", "policy_id", string="Actions", copy=True)
    hook_url = fields.Char(
        string="HTTP hook URL",
        help="Actions with the HTTP hook executor POST a JSON body here (an ops agent, a Rundeck or "
        "StackStorm webhook, ...)",
    )
    hook_method = fields.Selection([("POST", "POST"), ("PUT", "PUT")], default="POST", required=True)
    hook_token = fields.Char(
        string="Hook bearer token", groups="base.group_system", copy=False, help="Sent as Authorization: Bearer"
    )
    repository_id = fields.Many2one(
        "ops.repository", help="Repository whose workflow the GitHub dispatch executor starts"
    )
    workflow_file = fields.Char(help="Workflow file name (e.g. remediate.yml) or id, for the dispatch executor")
    workflow_ref = fields.Char(string="Workflow ref", help="Branch to run the workflow on (default branch if empty)")
    max_attempts_per_hour = fields.Integer(string="Max rounds per hour", default=3, required=True)
    cooldown_seconds = fields.Integer(
        string="Cooldown (s)",
        default=60,
        required=True,
        help="Least wait after any round on a target; also the first backoff delay after a failed round",
    )
    backoff_base = fields.Float(
        default=2.0, required=True, help="After each further failed round the wait grows by this factor"
    )
    max_delay_seconds = fields.Integer(
        string="Max backoff delay (s)",
        default=300,
        required=True,
        help="Cap of the backoff; an open circuit breaker allows one trial round after this long",
    )
    breaker_failures = fields.Integer(
        string="Circuit breaker after",
        default=3,
        required=True,
        help="Consecutive failed rounds after which the policy stops trying on that target",
    )
    dry_run = fields.Boolean(help="Record what would be done, never call anything")
    timeout_seconds = fields.Integer(string="Executor timeout (s)", default=15, required=True)
    target_count = fields.Integer(compute="_compute_target_count")

    def _compute_target_count(self):
        groups = self.env["ops.health.target"]._read_group(
            [("remediation_policy_id", "in", self.ids)], ["remediation_policy_id"], ["__count"]
        )
        counts = {policy.id: count for policy, count in groups}
        for policy in self:
            policy.target_count = counts.get(policy.id, 0)

    @api.constrains("max_attempts_per_hour", "cooldown_seconds", "backoff_base", "max_delay_seconds", "timeout_seconds")
    def _check_limits(self):
        for policy in self:
            if policy.max_attempts_per_hour < 1 or policy.cooldown_seconds < 0 or policy.max_delay_seconds < 0:
                raise ValidationError(_("Rounds per hour must be at least 1, delays cannot be negative."))
            if policy.backoff_base < 1:
                raise ValidationError(_("The backoff base must be at least 1."))
            if not 1 <= policy.timeout_seconds <= 300:
                raise ValidationError(_("The executor timeout must be between 1 and 300 seconds."))

    def _lines_for(self, condition):
        """Ordered lines that answer ``condition`` (lines for any condition included)."""
        self.ensure_one()
        return self.line_ids.filtered(lambda line: line.condition in (condition, "any")).sorted("sequence")

    def _engine_policy(self, lines, dry_run_switch=False):
        """The engine's view of this policy for a round made of ``lines``.

        The engine only needs to know that something will run (``action`` is
        not ``none``); internal Odoo actions count like hook calls.
        """
        self.ensure_one()
        executors = [line.executor for line in lines if line.executor in ("http_hook", "github_dispatch", "odoo")]
        action = executors[0] if executors else "none"
        return remediation.Policy(
            action="http_hook" if action == "odoo" else action,
            max_attempts_per_hour=self.max_attempts_per_hour,
            cooldown_seconds=self.cooldown_seconds,
            backoff_base=self.backoff_base,
            max_delay_seconds=max(self.max_delay_seconds, 1),
            breaker_failures=max(self.breaker_failures, 1),
            dry_run=bool(self.dry_run or dry_run_switch),
            requires_approval=any(line.destructive for line in lines),
        )

    def action_load_seed_actions(self):
        """Replace the lines with the seed's mapping (condition -> ordered actions, verification included)."""
        for policy in self:
            commands = [(5, 0, 0)]
            sequence = 0
            for condition, actions in remediation.SEED_ACTIONS.items():
                for seed in actions:
                    sequence += 10
                    commands.append(
                        (
                            0,
                            0,
                            {
                                "sequence": sequence,
                                "condition": condition,
                                "kind": seed.name,
                                "executor": seed.executor,
                                "destructive": seed.destructive,
                                "inputs": json.dumps(dict(seed.payload)) if seed.payload else False,
                            },
                        )
                    )
            policy.line_ids = commands
        return True
