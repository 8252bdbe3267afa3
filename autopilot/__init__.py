"""ops_autopilot's decision engine: plain Python, never imports odoo.

Imported as ``autopilot`` from the repository root (command line, pytest,
benchmarks) and as ``odoo.addons.ops_autopilot.autopilot`` inside Odoo, so
every internal import is relative.
"""
