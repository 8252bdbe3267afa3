import logging

from odoo import _, api, fields, models

from ..autopilot.delivery import cost
from .ops_params import get_param
from .ops_review import month_start

_logger = logging.getLogger(__name__)

BUDGET_STATES = [
    (cost.BUDGET_NONE, "No budget"),
    (cost.BUDGET_OK, "Within budget"),
    (cost.BUDGET_WARNING, "80 % reached"),
    (cost.BUDGET_EXCEEDED, "100 % reached"),
]


class OpsRepository(models.Model):
    """What a repository's CI and AI cost this month against its monthly budget.

    Month to date (UTC calendar month, like the AI token budget): CI = the
    priced jobs that started this month (``ops.workflow.job.cost``), AI = the
    reviews and CI fixes whose AI call was this month (``ops.review.cost``,
    counted there, joined here). Both are USD; the budget may be in another
    currency (converted at the company's rate of the day). A repository with
    no budget of its own uses the default budget of the settings (USD).
    The cost cron (:meth:`_cron_cost`) schedules one activity for the
    responsible when 80 % and when 100 % are reached, once per threshold
    and month.
    """

    _name = "ops.repository"
    # activities need a chatter (mail.activity subscribes the responsible, and notifies them by email)
    _inherit = ["ops.repository", "mail.thread", "mail.activity.mixin"]

    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        domain=[("share", "=", False)],
        help="Who hears about this repository's budget (and whom other alerts may name)",
    )
    cost_budget = fields.Monetary(
        string="Monthly budget",
        currency_field="cost_currency_id",
        help="CI minutes + AI calls per calendar month (UTC). Empty: the default budget of the settings.",
    )
    cost_currency_id = fields.Many2one(
        "res.currency", string="Budget currency", required=True, default=lambda self: self.env.ref("base.USD")
    )
    cost_ci_mtd = fields.Float(string="CI this month (USD)", digits=(12, 4), compute="_compute_cost_mtd")
    cost_ai_mtd = fields.Float(string="AI this month (USD)", digits=(12, 4), compute="_compute_cost_mtd")
    cost_mtd = fields.Monetary(
        string="Spent this month", currency_field="cost_budget_currency_id", compute="_compute_cost_mtd"
    )
    cost_budget_effective = fields.Monetary(
        string="Budget", currency_field="cost_budget_currency_id", compute="_compute_cost_mtd"
    )
    cost_budget_currency_id = fields.Many2one("res.currency", compute="_compute_cost_mtd")
    cost_budget_used = fields.Float(string="Budget used (%)", digits=(5, 1), compute="_compute_cost_mtd")
    cost_budget_state = fields.Selection(BUDGET_STATES, string="Budget state", compute="_compute_cost_mtd")
    cost_alert_month = fields.Char(readonly=True, copy=False, help="Month (YYYY-MM) of the last budget activity")
    cost_alert_level = fields.Integer(readonly=True, copy=False, help="Highest threshold (%) notified that month")

    def _compute_cost_mtd(self):
        spend = self._cost_spent_by_repository(month_start())
        for repo in self:
            ci, ai = spend.get(repo.id, (0.0, 0.0))
            budget, currency = repo._cost_budget()
            spent = repo._cost_in(ci + ai, currency)
            repo.cost_ci_mtd = ci
            repo.cost_ai_mtd = ai
            repo.cost_mtd = spent
            repo.cost_budget_effective = budget
            repo.cost_budget_currency_id = currency
            repo.cost_budget_used = cost.budget_percent(spent, budget) or 0.0
            repo.cost_budget_state = cost.budget_state(spent, budget)

    # ------------------------------------------------------------------
    # figures
    # ------------------------------------------------------------------
    @api.model
    def _cost_spent_by_repository(self, since, until=None, repositories=None):
        """``{repository id: (CI USD, AI USD)}`` since ``since``: two grouped queries, any number of repositories."""
        ids = (repositories if repositories is not None else self).ids
        # one repository: its own index range; several: every repository's group, kept or not below (a
        # "repository_id in (...)" would lead PostgreSQL to read all their jobs instead of the month's)
        scope = [("repository_id", "=", ids[0])] if len(ids) == 1 else []
        jobs = [("started_at", ">=", since), ("cost_priced", "=", True), ("cost", ">", 0), *scope]
        reviews = [("ai_called_at", ">=", since), ("cost", ">", 0), *scope]
        if until:
            jobs.append(("started_at", "<", until))
            reviews.append(("ai_called_at", "<", until))
        result = {}
        Job = self.env["ops.workflow.job"].sudo().with_context(active_test=False)
        for repo, total in Job._read_group(jobs, ["repository_id"], ["cost:sum"]):
            result[repo.id] = (total or 0.0, 0.0)
        Review = self.env["ops.review"].sudo().with_context(active_test=False)
        for repo, total in Review._read_group(reviews, ["repository_id"], ["cost:sum"]):
            ci, _ai = result.get(repo.id, (0.0, 0.0))
            result[repo.id] = (ci, total or 0.0)
        return {repo_id: spent for repo_id, spent in result.items() if not ids or repo_id in ids}

    def _cost_budget(self):
        """``(amount, currency)`` of this month's budget: the repository's own, else the default (USD)."""
        self.ensure_one()
        if self.cost_budget > 0:
            return self.cost_budget, self.cost_currency_id
        return get_param(self.env, "cost_default_budget"), self.env.ref("base.USD")

    def _cost_in(self, amount_usd, currency):
        """``amount_usd`` in ``currency`` at the company's rate of the day (costs are counted in USD)."""
        usd = self.env.ref("base.USD")
        if not amount_usd or currency == usd:
            return amount_usd
        company = self.company_id or self.env.company
        return usd._convert(amount_usd, currency, company, fields.Date.context_today(self))

    def _cost_responsible(self):
        """The repository's responsible, else the first Ops Manager who is a real user, else the administrator."""
        self.ensure_one()
        if self.user_id.active:
            return self.user_id
        root = self.env.ref("base.user_root")
        managers = self.env.ref("ops_autopilot.group_ops_manager").users.filtered(
            lambda u: u.active and not u.share and u != root
        )
        return managers.sorted("id")[:1] or self.env.ref("base.user_admin")

    # ------------------------------------------------------------------
    # the cost cron
    # ------------------------------------------------------------------
    @api.model
    def _cron_cost(self):
        """Price the jobs not priced yet (batches), then tell responsibles of budgets reaching 80 % / 100 %."""
        self.env["ops.workflow.job"]._cron_backfill_cost()
        self._cost_check_budgets()

    @api.model
    def _cost_check_budgets(self, now=None):
        """One activity per repository and threshold and month: the highest threshold newly reached.

        A month that jumps from 50 % to 120 % between two runs gets the 100 %
        activity only (80 % is marked as passed with it). Returns the
        repositories notified.
        """
        now = now or fields.Datetime.now()
        since = month_start(now)
        month = since.strftime("%Y-%m")
        repositories = self.sudo().search([])
        spend = self._cost_spent_by_repository(since, repositories=repositories)
        notified = self.browse()
        for repo in repositories:
            budget, currency = repo._cost_budget()
            if budget <= 0:
                continue
            ci, ai = spend.get(repo.id, (0.0, 0.0))
            spent = repo._cost_in(ci + ai, currency)
            level = repo.cost_alert_level if repo.cost_alert_month == month else 0
            reached = cost.thresholds_to_notify(spent, budget, level)
            if not reached:
                continue
            try:
                with self.env.cr.savepoint():
                    repo._cost_notify(reached[-1], spent, budget, currency, month)
                notified |= repo
            except Exception as exc:  # one repository's trouble never blocks the others; retried next run
                _logger.warning("budget activity of repository %s failed: %s", repo.id, exc, exc_info=True)
        return notified

    def _cost_notify(self, threshold, spent, budget, currency, month):
        self.ensure_one()
        summary = _(
            "%(repository)s: %(threshold)s %% of the monthly CI and AI budget reached",
            repository=self.full_name,
            threshold=threshold,
        )
        note = _(
            "Spent this month: %(spent)s of %(budget)s (%(percent)s %%). See the cost panel of the dashboard.",
            spent=currency.format(spent),
            budget=currency.format(budget),
            percent=cost.budget_percent(spent, budget),
        )
        self.activity_schedule(
            "mail.mail_activity_data_todo", summary=summary, note=note, user_id=self._cost_responsible().id
        )
        self.write({"cost_alert_month": month, "cost_alert_level": threshold})
