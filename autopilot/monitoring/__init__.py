"""Production health: probes, alerts, remediation and escalation.

HTTP probes with hard deadlines (:mod:`.probes`), host CPU and memory
(:mod:`.host_metrics`), Odoo-native signals such as stuck crons
(:mod:`.native_monitors`), alert evaluation without noise (:mod:`.alerts`),
the safety policy and executors of auto-remediation (:mod:`.remediation`),
the escalation ladder (:mod:`.escalation`) and paging through PagerDuty or
a webhook (:mod:`.paging`).
"""
