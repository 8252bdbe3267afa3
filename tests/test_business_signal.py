"""Business signals on a real community model (res.partner creations), with real incidents and a real page.

History is built the way it exists in a live database: partners created by the
ORM, their ``create_date`` moved into the past by SQL (the column Odoo itself
fills). Time is passed to the cron (``now``), never slept. The page goes to
the local PagerDuty Events v2 server, which validates every event.
"""

from datetime import datetime, timedelta

from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import SQL, mute_logger

from ..autopilot.testing.paging_server import FakePagerDuty
from .common import hold_fakes_to_contracts

ROUTING_KEY = "B0SINESSKEY0123456789abcdefabcdef"
TZ = "Europe/Brussels"
#: Tuesday 31 March 2026, 10:01 in Brussels (summer time since Sunday: the weeks of history were winter time)
NOW = datetime(2026, 3, 31, 8, 1)
PER_SLOT = 10
COLOR = 3  # the "amount" of each partner (an integer field of res.partner, summed like money)


@tagged("post_install", "-at_install")
class TestBusinessSignal(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pagerduty = FakePagerDuty(routing_key=ROUTING_KEY).start()
        cls.addClassCleanup(cls.pagerduty.stop)
        params = cls.env["ir.config_parameter"].sudo()
        params.set_param("ops_autopilot.paging_url", cls.pagerduty.events_url)
        params.set_param("ops_autopilot.paging_routing_key", ROUTING_KEY)
        cls.Signal = cls.env["ops.business.signal"]
        cls.Incident = cls.env["ops.incident"]
        cls.Signal.search([]).write({"active": False})  # the demo signal watches partners too
        cls.manager = new_test_user(cls.env, login="signal_manager", groups="ops_autopilot.group_ops_manager")
        cls.ops_user = new_test_user(cls.env, login="signal_user", groups="ops_autopilot.group_ops_user")
        cls.partner_model = cls.env["ir.model"]._get("res.partner")
        cls.create_date = cls.env["ir.model.fields"]._get("res.partner", "create_date")
        cls.color = cls.env["ir.model.fields"]._get("res.partner", "color")
        # four weeks of history: 10 new contacts per quarter hour, 08:00-12:00 Brussels time, every Tuesday
        moments = []
        for week in range(1, 5):
            day = NOW - timedelta(weeks=week) + timedelta(hours=1)  # winter time: one hour later in UTC
            for slot in range(-8, 8):
                start = day.replace(minute=0) + timedelta(minutes=15 * slot)
                moments += [start + timedelta(seconds=50 * i + week) for i in range(PER_SLOT)]
        cls.make_partners(moments)

    @classmethod
    def _request_handler(cls, s, r, /, **kw):
        # as MonitoringCase: Odoo's guard against external requests compares ``timeout`` with a number,
        # and the pager passes requests' (connect, read) tuple
        if isinstance(kw.get("timeout"), tuple):
            kw["timeout"] = max(kw["timeout"])
        return super()._request_handler(s, r, **kw)

    @classmethod
    def make_partners(cls, moments, prefix="BSIG"):
        partners = cls.env["res.partner"].create(
            [{"name": f"{prefix} {index}", "color": COLOR} for index in range(len(moments))]
        )
        cls.env.cr.execute(
            SQL(
                "UPDATE res_partner p SET create_date = m.at FROM unnest(%s::int[], %s::timestamp[]) AS m(id, at)"
                " WHERE p.id = m.id",
                partners.ids,
                moments,
            )
        )
        partners.invalidate_recordset(["create_date"])
        return partners

    def setUp(self):
        super().setUp()
        hold_fakes_to_contracts(self)
        self.pagerduty.reset()

    def make_signal(self, **values):
        vals = {
            "name": "New contacts",
            "model_id": self.partner_model.id,
            "domain": "[('name', '=like', 'BSIG %')]",
            "time_field_id": self.create_date.id,
            "amount_field_id": self.color.id,
            "unit_label": "contacts",
            "tz": TZ,
            "history_weeks": 4,
            "k_fire": 2,
            "k_clear": 2,
            "next_check_at": NOW - timedelta(hours=1),
            # checked up to 09:30-09:45 Brussels time: the first run checks 09:45-10:00
            "last_interval_start": datetime(2026, 3, 31, 7, 30),
        }
        vals.update(values)
        return self.Signal.with_user(self.manager).create(vals).sudo()

    def run_cron(self, at):
        self.Signal._cron_check_signals(now=at)

    def quarter(self, index):
        """The ``index``-th quarter hour after NOW's (NOW + 15 min * index)."""
        return NOW + timedelta(minutes=15 * index)

    # ------------------------------------------------------------------
    def test_creations_that_stop_fire_one_incident_whose_impact_grows_then_resolves(self):
        signal = self.make_signal()
        # normal trading this morning: 09:45-10:00 had its usual 10 new contacts
        self.make_partners(
            [datetime(2026, 3, 31, 7, 45, 30) + timedelta(seconds=80 * i) for i in range(PER_SLOT)], prefix="BSIG now"
        )
        self.run_cron(NOW)
        self.assertEqual(signal.state, "ok", signal.last_error)
        self.assertEqual(signal.last_baseline, PER_SLOT)
        self.assertFalse(signal.incident_ids)

        # creations stop: the first empty quarter is not enough (K = 2), the second fires
        self.run_cron(self.quarter(1))
        self.assertEqual(signal.last_observed, 0)
        self.assertFalse(signal.incident_ids)
        self.run_cron(self.quarter(2))
        self.assertEqual(signal.state, "anomaly")
        incident = signal.incident_ids
        self.assertEqual(len(incident), 1)
        self.assertEqual(incident.source, "business")
        self.assertEqual(incident.failing_since, NOW - timedelta(minutes=1))  # the first empty quarter's start
        self.assertEqual(incident.impact_count, 2 * PER_SLOT)
        self.assertEqual(incident.impact_amount, 2 * PER_SLOT * COLOR)
        self.assertIn("≈ 20 contacts", incident.impact_text)
        self.assertIn(incident.impact_currency_id.name, incident.impact_text)

        impacts = []
        for index in range(3, 6):
            self.run_cron(self.quarter(index))
            impacts.append(incident.impact_count)
        self.assertEqual(impacts, [30, 40, 50])
        self.assertEqual(signal.incident_ids, incident, "one incident, counted on, never a second one")
        notes = incident.message_ids.mapped("body")
        # in the chatter when the impact crosses 20 and 50 (the 1-2-5 series), not at 30 and 40
        self.assertEqual(len([n for n in notes if "Business impact so far" in n]), 2)

        # creations resume at 11:15 Brussels time: back after two normal quarters (K clear = 2)
        resume = datetime(2026, 3, 31, 9, 15)
        self.make_partners([resume + timedelta(seconds=90 * i) for i in range(2 * PER_SLOT)], prefix="BSIG back")
        self.run_cron(self.quarter(6))
        self.assertNotEqual(incident.state, "resolved")
        self.run_cron(self.quarter(7))
        self.assertEqual(signal.state, "ok")
        self.assertEqual(incident.state, "resolved")
        self.assertTrue(incident.auto_resolved)
        self.assertEqual(incident.impact_count, 50, "the recovered quarters added no shortfall")

    def test_the_slot_follows_the_local_clock_across_the_dst_change(self):
        """10:00-10:15 in Brussels is 09:00 UTC in the winter weeks of history and 08:00 UTC on 31 March."""
        history = [datetime(2026, 3, 31, 9, 0) - timedelta(weeks=w) for w in range(1, 5)]
        self.make_partners([at + timedelta(seconds=60 * i) for at in history for i in range(PER_SLOT)], prefix="DST")
        self.make_partners([datetime(2026, 3, 31, 8, 0) + timedelta(seconds=60 * i) for i in range(PER_SLOT)], "DST")
        signal = self.make_signal(
            domain="[('name', '=like', 'DST %')]", last_interval_start=datetime(2026, 3, 31, 7, 45)
        )
        signal._check_safely(datetime(2026, 3, 31, 8, 16))
        # the same UTC hour a week before (09:00 local) had no contact: a UTC slot would see a baseline of 0
        self.assertEqual((signal.last_observed, signal.last_baseline), (PER_SLOT, PER_SLOT))
        self.assertEqual(signal.point_ids.history, 4)
        self.assertEqual(signal.state, "ok")

    def test_no_history_means_learning_and_no_incident(self):
        signal = self.make_signal(domain="[('name', '=like', 'NOBODY %')]")
        for index in range(0, 5):
            self.run_cron(self.quarter(index))
        self.assertEqual(signal.state, "learning")
        self.assertEqual(signal.summary, "Learning: not enough history for a baseline")
        self.assertFalse(signal.incident_ids)

    def test_a_broken_domain_does_not_block_another_signal(self):
        broken = self.make_signal(name="Broken")
        healthy = self.make_signal(name="Healthy")
        # as after an upgrade that removed a field: the stored domain no longer validates
        self.env.cr.execute(
            SQL("UPDATE ops_business_signal SET domain = %s WHERE id = %s", "[('x_gone', '=', 1)]", broken.id)
        )
        broken.invalidate_recordset()
        with mute_logger("odoo.addons.ops_autopilot.models.ops_business_signal"):
            self.run_cron(NOW)
        self.assertIn("x_gone", broken.last_error)
        self.assertEqual(broken.error_count, 1)
        self.assertFalse(broken.point_ids)
        self.assertGreater(broken.next_check_at, NOW, "tried again next interval, not in a loop")
        self.assertFalse(healthy.last_error)
        self.assertEqual(healthy.last_check, NOW)
        self.assertTrue(healthy.point_ids)

    def test_impact_over_the_level_pages_a_slow_incident(self):
        """A target only "slow" (medium: no page) is paged once its linked signal's shortfall crosses the level."""
        target = self.env["ops.health.target"].create({"name": "shop checkout", "url": "http://127.0.0.1:9/"})
        signal = self.make_signal(target_ids=[(6, 0, target.ids)], impact_level_count=40, k_fire=50)
        key = f"health:target:{target.id}:slow"
        slow = self.Incident._raise_incident(target._incident_vals(key, "slow", "medium", "p95 2.4 s", self.quarter(0)))
        self.run_cron(self.quarter(1))
        self.assertEqual(slow.impact_count, PER_SLOT)
        self.assertEqual(slow.severity, "medium")
        self.run_cron(self.quarter(2))
        self.assertEqual(slow.severity, "high")  # half the level
        self.assertFalse(self.pagerduty.events)
        self.run_cron(self.quarter(4))  # a late cron catches up on the quarters it missed
        self.assertEqual(slow.impact_count, 4 * PER_SLOT)
        self.assertEqual(slow.severity, "critical")
        self.assertEqual(slow.page_state, "triggered", slow.event_ids.mapped("summary"))
        [event] = [e for e in self.pagerduty.events if e["event_action"] == "trigger"]
        self.assertEqual(event["dedup_key"], key)
        self.assertEqual(signal.state, "ok", "the signal itself never fired (k = 50): the impact did it")

    def test_only_managers_configure_signals(self):
        with self.assertRaises(AccessError):
            self.Signal.with_user(self.ops_user).create(
                {
                    "name": "nope",
                    "model_id": self.partner_model.id,
                    "time_field_id": self.create_date.id,
                }
            )
        signal = self.make_signal()
        self.assertEqual(self.Signal.with_user(self.ops_user).browse(signal.id).name, "New contacts")

    def test_dashboard_and_weekly_report_show_the_impact(self):
        signal = self.make_signal()
        for index in range(0, 4):
            self.run_cron(self.quarter(index))
        incident = signal.incident_ids
        # no contact since 09:45 Brussels time: four empty quarters by 10:46
        self.assertEqual(incident.impact_count, 4 * PER_SLOT)
        filters = {"period": "custom", "date_from": "2026-03-30", "date_to": "2026-04-01"}

        data = self.env["ops.dashboard"].with_user(self.ops_user).get_dashboard_data(filters)["business"]
        self.assertTrue(data["available"])
        [row] = [r for r in data["signals"] if r["id"] == signal.id]
        self.assertEqual((row["state"], row["observed"], row["baseline"]), ("anomaly", 0, PER_SLOT))
        [line] = [r for r in data["incidents"] if r["id"] == incident.id]
        self.assertIn("≈ 40 contacts", line["impact"])

        html = (
            self.env["ir.actions.report"]
            .with_user(self.ops_user)
            ._render_qweb_html("ops_autopilot.action_report_ops_health", [], data={"filters": filters})[0]
            .decode()
        )
        self.assertIn("Business impact", html)
        self.assertIn(f"≈ 40 contacts, ≈ {4 * PER_SLOT * COLOR} {incident.impact_currency_id.name} not taken", html)
        # a user outside Ops sees no business panel
        outsider = new_test_user(self.env, login="signal_outsider", groups="base.group_user")
        self.assertFalse(self.env["ops.dashboard"].with_user(outsider)._business_panel({})["available"])
