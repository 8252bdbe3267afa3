"""Production health: probes, alerts, remediation and escalation.

HTTP probes with hard deadlines (:mod:`.probes`), metrics pages read with
prometheus_client's parser: host CPU and memory, an application's error
ratio and latency (:mod:`.host_metrics`), PromQL queries to a Prometheus
server (:mod:`.prometheus_api`), Odoo-native signals such as stuck crons
(:mod:`.native_monitors`), alert evaluation without noise (:mod:`.alerts`),
when a target is checked next (:mod:`.schedule`),
the safety policy and executors of auto-remediation (:mod:`.remediation`),
the escalation ladder (:mod:`.escalation`) and paging through PagerDuty or
a webhook (:mod:`.paging`).
"""
