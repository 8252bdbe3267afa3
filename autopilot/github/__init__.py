"""GitHub, as the product speaks to it and hears from it.

The REST client over PyGithub with timeouts and typed failures
(:mod:`.rest_api`), webhook payloads normalised into typed events
(:mod:`.events`), the ``X-Hub-Signature-256`` signature (:mod:`.signature`),
what self-healing asks of Actions (:mod:`.ci`: logs, re-runs, issues),
workflow dispatch (:mod:`.dispatch`), bounded archive downloads
(:mod:`.archives`) and what the token may do (:mod:`.permissions`). It decides nothing about CI, scans or reviews: the
capabilities that do import it.
"""
