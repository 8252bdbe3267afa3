"""How a GitHub delivery gets in and is never lost.

The webhook gate that lets a delivery in or turns it away from its headers
and raw body (:mod:`.gate`), the lifecycle of workflow runs and jobs that
keeps out-of-order and redelivered events from changing anything twice
(:mod:`.lifecycle`), and GitHub's own delivery log, read back to ask again
for what Odoo does not hold (:mod:`.delivery_log`).
"""
