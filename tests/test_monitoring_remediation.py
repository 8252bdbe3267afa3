import itertools

from odoo.exceptions import UserError
from odoo.tests import tagged

from .monitoring_common import GITHUB_TOKEN, MonitoringCase

RESTART = ("down", "restart_service", "http_hook", False)
VERIFY = ("down", "health_check", "verify", False)


@tagged("post_install", "-at_install")
class TestMonitoringRemediation(MonitoringCase):
    def setUp(self):
        super().setUp()
        self.targets.requests.clear()

    def hook_calls(self, path="/hook"):
        return self.targets.calls("POST", f"^{path}$")

    def rounds(self, incident):
        return max(incident.remediation_action_ids.mapped("attempt") or [0])

    def test_round_runs_actions_in_order_then_verifies_the_target(self):
        target = self.make_target("/status/500", remediation_policy_id=self.policy([RESTART, VERIFY]).id)
        self.tick(3)
        incident = self.open_incident(target, "down")
        restart, verify = incident.remediation_action_ids.sorted("id")
        self.assertRecordValues(
            restart,
            [{"kind": "restart_service", "state": "succeeded", "attempt": 1, "response_status": 200}],
        )
        self.assertEqual(restart.verified, "unhealthy", "the check after the restart still fails")
        self.assertIn("POST", restart.request_summary)
        self.assertEqual(verify.state, "failed")
        [call] = self.hook_calls()
        body = call.json()
        self.assertEqual(body["action"], "restart_service")
        self.assertEqual(body["incident"], incident.name)
        self.assertEqual(body["condition"], "down")
        self.assertEqual(incident.state, "remediating")
        self.assertTrue(incident.remediation_failed)

    def test_cooldown_then_rate_limit_hold_between_rounds(self):
        policy = self.policy([RESTART], cooldown_seconds=300, max_attempts_per_hour=2)
        target = self.make_target("/status/500", remediation_policy_id=policy.id)
        self.tick(3)
        incident = self.open_incident(target, "down")
        self.assertEqual(self.rounds(incident), 1)
        self.tick(4)  # 4 minutes after the first round: cooling down
        self.assertEqual(self.rounds(incident), 1)
        self.tick()  # 5 minutes: allowed again
        self.assertEqual(self.rounds(incident), 2)
        self.tick(10)  # two rounds in the last hour: rate limited
        self.assertEqual(self.rounds(incident), 2)
        self.assertEqual(len(self.hook_calls()), 2)

    def test_circuit_breaker_opens_after_repeated_failures_then_allows_one_trial(self):
        policy = self.policy(
            [RESTART],
            hook_url=self.targets.url_for("/hook/fail"),
            cooldown_seconds=60,
            max_delay_seconds=300,
            breaker_failures=2,
            max_attempts_per_hour=20,
        )
        target = self.make_target("/status/500", remediation_policy_id=policy.id)
        self.tick(4)  # first round at minute 3, second one a minute later (backoff: one cooldown)
        incident = self.open_incident(target, "down")
        self.assertEqual(self.rounds(incident), 2)
        failed = incident.remediation_action_ids
        self.assertEqual(set(failed.mapped("state")), {"failed"})
        self.assertIn("HTTP 500", failed[0].detail)
        self.tick(4)  # circuit open for max_delay_seconds after the last failure
        self.assertEqual(self.rounds(incident), 2)
        self.assertTrue(incident.remediation_failed)
        self.tick()  # half-open: one trial
        self.assertEqual(self.rounds(incident), 3)
        self.tick(2)
        self.assertEqual(self.rounds(incident), 3, "the failed trial opens the circuit again")
        self.assertEqual(len(self.hook_calls("/hook/fail")), 3)

    def test_destructive_action_waits_for_a_manager(self):
        restart = ("down", "restart_service", "http_hook", True)
        target = self.make_target("/status/500", remediation_policy_id=self.policy([restart, VERIFY]).id)
        self.tick(3)
        incident = self.open_incident(target, "down")
        waiting, verify = incident.remediation_action_ids.sorted("id")
        self.assertEqual(waiting.state, "awaiting_approval")
        self.assertTrue(waiting.destructive)
        self.assertEqual(verify.state, "proposed", "the rest of the round waits with it")
        self.assertFalse(self.hook_calls())
        activity = incident.activity_ids.filtered(lambda a: a.user_id == self.manager)
        self.assertEqual(len(activity), 1)
        self.tick(2)
        self.assertEqual(len(incident.remediation_action_ids), 2, "no new round while one waits")
        with self.assertRaises(UserError):
            waiting.with_user(self.ops_user).action_approve()
        waiting.with_user(self.manager).action_approve()
        self.assertEqual(waiting.state, "succeeded")
        self.assertEqual(waiting.approved_by, self.manager)
        self.assertEqual(verify.state, "failed")
        self.assertEqual(len(self.hook_calls()), 1)
        self.assertFalse(incident.activity_ids.filtered(lambda a: a.user_id == self.manager))

    def test_rejected_action_skips_the_round(self):
        restart = ("down", "restart_service", "http_hook", True)
        target = self.make_target("/status/500", remediation_policy_id=self.policy([restart, VERIFY]).id)
        self.tick(3)
        actions = self.open_incident(target, "down").remediation_action_ids
        actions.sorted("id")[0].with_user(self.manager).action_reject()
        self.assertEqual(set(actions.mapped("state")), {"skipped"})
        self.assertFalse(self.hook_calls())

    def test_global_dry_run_records_without_calling_once_per_cooldown(self):
        self.env["ir.config_parameter"].sudo().set_param("ops_autopilot.remediation_dry_run", "True")
        target = self.make_target("/status/500", remediation_policy_id=self.policy([RESTART, VERIFY]).id)
        self.tick(3)
        incident = self.open_incident(target, "down")
        self.assertEqual(set(incident.remediation_action_ids.mapped("state")), {"dry_run"})
        self.assertEqual(len(incident.remediation_action_ids), 2)
        self.assertFalse(self.hook_calls())
        self.assertEqual(incident.state, "open", "a dry run does not heal anything")
        self.tick(2)
        self.assertEqual(len(incident.remediation_action_ids), 2)

    def test_seed_policy_is_a_dry_run_of_the_seed_mapping(self):
        seed = self.env.ref("ops_autopilot.remediation_policy_seed")
        down = seed._lines_for("down")
        self.assertEqual(down.mapped("kind"), ["restart_service", "health_check"])
        self.assertTrue(down[0].destructive)
        self.assertEqual(seed._lines_for("memory")[0].kind, "clear_caches")
        self.assertEqual(seed._lines_for("slow")[0].kind, "scale_up")
        target = self.make_target("/status/500", remediation_policy_id=seed.id)
        self.tick(3)
        actions = self.open_incident(target, "down").remediation_action_ids
        self.assertEqual(set(actions.mapped("state")), {"dry_run"})

    def test_odoo_host_memory_clears_this_odoo_caches(self):
        target = self.Target.create(
            {
                "name": "this Odoo",
                "kind": "odoo_host",
                "interval_minutes": 1,
                "threshold_memory": 0.5,
                "threshold_duration_seconds": 0,
                "next_check_at": self.now,
                "remediation_policy_id": self.env.ref("ops_autopilot.remediation_policy_odoo").id,
            }
        )
        self.tick()
        incident = self.open_incident(target, "memory")
        clear, verify = incident.remediation_action_ids.sorted("id")
        self.assertEqual((clear.kind, clear.executor, clear.state), ("clear_caches", "odoo", "succeeded"))
        self.assertEqual(verify.state, "succeeded")
        self.assertEqual(clear.verified, "healthy")

    def test_round_without_a_verification_step_is_verified_by_the_next_check(self):
        target = self.make_target("/status/500", remediation_policy_id=self.policy([RESTART]).id)
        self.tick(3)
        restart = self.open_incident(target, "down").remediation_action_ids
        self.assertEqual((restart.state, restart.verified), ("succeeded", "pending"))
        target.url = self.targets.url_for("/ok")
        self.tick()
        self.assertEqual(restart.verified, "healthy")

    def test_backoff_doubles_from_the_cooldown_up_to_its_cap(self):
        defaults = self.env["ops.remediation.policy"].default_get(
            ["cooldown_seconds", "backoff_base", "max_delay_seconds"]
        )
        self.assertEqual((defaults["backoff_base"], defaults["max_delay_seconds"]), (2, 300), "the seed's backoff")
        self.assertLess(defaults["cooldown_seconds"], 300, "the backoff has room to grow by default")
        policy = self.policy(
            [RESTART],
            hook_url=self.targets.url_for("/hook/fail"),
            cooldown_seconds=defaults["cooldown_seconds"],
            max_delay_seconds=defaults["max_delay_seconds"],
            breaker_failures=10,
            max_attempts_per_hour=20,
        )
        target = self.make_target("/status/500", remediation_policy_id=policy.id)
        self.tick(20)
        actions = self.open_incident(target, "down").remediation_action_ids.sorted("attempt")
        self.assertEqual(set(actions.mapped("state")), {"failed"})
        starts = actions.mapped("requested_at")
        waits = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(starts)]
        cooldown = defaults["cooldown_seconds"]
        expected = [min(300, cooldown * 2**n) for n in range(len(waits))]
        # checks run every minute: a round starts at the first check after its wait
        self.assertEqual([int(-(-w // 60) * 60) for w in expected], waits)
        self.assertEqual(waits[-1], 300, "capped")
        self.assertGreater(len(waits), 3, "the wait doubled more than once before reaching the cap")

    def test_github_dispatch_executor_starts_the_workflow_with_the_incident_as_inputs(self):
        self.github.seed_repo("acme/shop", {"README.md": "shop"})
        self.github.add_workflow("acme/shop", path=".github/workflows/restart.yml", name="Restart")
        dispatch = ("down", "restart_service", "github_dispatch", False)
        policy = self.policy([dispatch], repository_id=self.repo.id, workflow_file="restart.yml")
        target = self.make_target("/status/500", remediation_policy_id=policy.id)
        before = len(self.github.dispatches)
        self.tick(3)
        incident = self.open_incident(target, "down")
        action = incident.remediation_action_ids
        self.assertRecordValues(action, [{"executor": "github_dispatch", "state": "succeeded", "response_status": 204}])
        [(full_name, _workflow, ref, inputs)] = self.github.dispatches[before:]
        self.assertEqual((full_name, ref), ("acme/shop", "main"))
        self.assertEqual(
            (inputs["action"], inputs["condition"], inputs["incident"]), ("restart_service", "down", incident.name)
        )
        self.assertIn("restart.yml", action.request_summary)
        self.assertNotIn(GITHUB_TOKEN, f"{action.request_summary} {action.detail}")
        self.tick()
        self.assertEqual(action.verified, "unhealthy", "the next check says the dispatch did not heal it")

    def test_failed_dispatch_is_a_failed_attempt(self):
        dispatch = ("down", "restart_service", "github_dispatch", False)
        policy = self.policy([dispatch], repository_id=self.repo.id, workflow_file="missing.yml")
        target = self.make_target("/status/500", remediation_policy_id=policy.id)
        self.tick(3)
        incident = self.open_incident(target, "down")
        self.assertRecordValues(incident.remediation_action_ids, [{"state": "failed", "response_status": 404}])
        self.assertTrue(incident.remediation_failed)
