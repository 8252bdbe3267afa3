import unittest

from odoo.tests import tagged

from ..autopilot.monitoring import prometheus_api
from ..autopilot.testing import prometheus
from ..autopilot.testing.instrumented_app import InstrumentedApp
from .monitoring_common import MonitoringCase

WINDOW = "10s"  # the rate window for the test server's 1 s scrape interval


@tagged("post_install", "-at_install")
class TestMonitoringPrometheus(MonitoringCase):
    """Targets pointed at a real Prometheus (Debian's package) scraping an app and node_exporter the test drives.

    Prometheus answers in real time; the probe crons run at the test's own
    ``now`` (one minute per tick), so the thresholds' 5-minute hold is
    judged without waiting five minutes.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        absent = prometheus.missing()
        if absent:
            raise unittest.SkipTest(f"{', '.join(absent)} not installed: {prometheus.INSTALL_HINT}")
        cls.app = InstrumentedApp().start()
        cls.addClassCleanup(cls.app.stop)
        cls.node = prometheus.NodeExporter().start()
        cls.addClassCleanup(cls.node.stop)
        cls.feed = prometheus.HostFeed(cls.node.textfiles).start()
        cls.addClassCleanup(cls.feed.stop)
        cls.prometheus = prometheus.PrometheusServer({"shop": cls.app.address, "node": cls.node.address}).start()
        cls.addClassCleanup(cls.prometheus.stop)
        cls.app.start_traffic()
        cls.prometheus.wait_scraped("shop")
        cls.prometheus.wait_scraped("node")

    def settle(self, target, field, predicate):
        """Wait (deadline) until Prometheus itself gives the target's query a value that satisfies ``predicate``."""
        query = prometheus_api.render(target[field], target.prometheus_selector, target.prometheus_window)
        prometheus.wait_until(
            lambda: (value := self.prometheus.value(query)) is not None and predicate(value), 90, 0.5, field
        )

    def prometheus_target(self, selector, **values):
        return self.Target.create(
            {
                "name": f"prometheus {selector}",
                "kind": "prometheus",
                "url": self.prometheus.url,
                "prometheus_selector": selector,
                "prometheus_window": WINDOW,
                "next_check_at": self.now,
                **values,
            }
        )

    def test_error_ratio_and_p95_latency_fire_and_resolve_at_the_default_thresholds(self):
        # an application's job has no host metrics: its CPU and memory queries are cleared
        target = self.prometheus_target('job="shop"', query_cpu=False, query_memory=False)
        self.assertRecordValues(target, [{"threshold_error_rate": 5.0, "threshold_response_ms": 2000}])
        self.app.error_share, self.app.latency = 0.2, 2.2
        self.settle(target, "query_error_ratio", lambda v: v > 10)
        self.settle(target, "query_p95_ms", lambda v: v > 2000)
        self.tick(4)
        self.assertTrue(target.last_up, target.last_error)
        self.assertGreater(target.last_error_ratio, 5)
        self.assertGreater(target.last_p95_ms, 2000)
        self.assertFalse(self.incidents(target), "breached for 3 minutes: not yet (held 5 minutes)")
        self.tick(3)
        errors, slow = self.open_incident(target, "error_rate"), self.open_incident(target, "slow")
        self.assertEqual(len(errors), 1)
        self.assertEqual(len(slow), 1)
        self.assertIn("high error rate", errors.title)
        self.assertIn("error ratio", errors.description)
        self.assertIn("p95 latency", slow.description)
        self.assertTrue(target.rechecking, "checked at the short interval while incidents are open")
        self.app.error_share, self.app.latency = 0.0, 0.01
        self.settle(target, "query_error_ratio", lambda v: v < 1)
        self.settle(target, "query_p95_ms", lambda v: v < 500)
        self.tick(2, minutes=0, seconds=30)
        self.assertEqual((errors.state, slow.state), ("resolved", "resolved"))
        self.assertTrue(errors.auto_resolved and slow.auto_resolved)
        self.assertFalse(target.rechecking)
        self.assertEqual(len(self.incidents(target)), 2)

    def test_host_cpu_and_memory_from_node_exporter_fire_and_resolve(self):
        target = self.prometheus_target('job="node"', query_error_ratio=False, query_p95_ms=False)
        self.feed.set(busy=0.9, memory_used=0.9)
        self.settle(target, "query_cpu", lambda v: abs(v - 90) < 2)
        self.tick(7)
        cpu, memory = self.open_incident(target, "cpu"), self.open_incident(target, "memory")
        self.assertEqual((len(cpu), len(memory)), (1, 1), target.last_error)
        self.assertAlmostEqual(target.last_cpu_percent, 90, delta=4)
        self.assertAlmostEqual(target.last_memory_percent, 90, delta=0.1)
        self.feed.set(busy=0.2, memory_used=0.5)
        self.settle(target, "query_cpu", lambda v: abs(v - 20) < 2)
        self.tick(2, minutes=0, seconds=30)
        self.assertEqual((cpu.state, memory.state), ("resolved", "resolved"))

    def test_a_failed_query_fails_the_check_with_prometheus_reason(self):
        target = self.prometheus_target('job="shop"', query_cpu="rate(node_cpu_seconds_total[5m]", query_memory=False)
        self.tick()
        self.assertFalse(target.last_up)
        self.assertIn("CPU query: bad_data", target.last_error)
        self.assertTrue(target.rechecking, "a failed check is re-checked soon")

    def test_an_http_target_reads_the_app_s_own_counters_between_two_checks(self):
        self.app.error_share, self.app.latency = 0.25, 0.01
        target = self.make_target("/ok", metrics_url=f"{self.app.url}/metrics")
        self.tick()
        self.assertTrue(target.last_up, target.last_error)
        self.assertEqual(target.last_error_ratio, 0.0, "no rate from one scrape (and no NULL shown as a figure)")
        served = self.app.served
        prometheus.wait_until(lambda: self.app.served >= served + 100, 60, what="traffic between two checks")
        self.tick()
        self.assertAlmostEqual(target.last_error_ratio, 25, delta=5)
        self.assertTrue(target.metrics_counters["requests"])
