"""The business the monitored services exist for: change freezes and business signals.

Freeze calendars expanded from working calendars and public holidays
(:mod:`.freeze`), seasonal baselines of a business count with an anomaly
rule robust to outliers (:mod:`.signals`), and what an incident cost in
orders and money (:mod:`.impact`).
"""
