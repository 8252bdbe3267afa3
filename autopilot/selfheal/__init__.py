"""Self-healing CI: why a job failed, and what to do about it.

Job logs cleaned and cut to their failure excerpt (:mod:`.logs`), the rule
knowledge base (:mod:`.rules`, its seed table in ``data/``), failure
fingerprints (:mod:`.fingerprint`), the scikit-learn classifier
(:mod:`.classifier`) and the calibrated diagnosis that combines them
(:mod:`.diagnosis`); the retry, flakiness and rollback decisions
(:mod:`.decisions`), the diagnostic report and issue text (:mod:`.reports`),
and the change router that says which workflows a change needs
(:mod:`.router`).
"""
