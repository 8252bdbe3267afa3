# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3

.PHONY: demo test bench lint pot

demo:  ## Odoo 18 + ops_autopilot + demo data on http://localhost:8069 (admin/admin)
	$(PYTHON) tools/run_demo.py

test:  ## every test: engine (pytest) then Odoo (fresh database); ends with "N passed, N failed"
	$(PYTHON) tools/run_tests.py

bench:  ## benchmarks, printed next to their baselines
	$(PYTHON) bench/run.py

lint:  ## every pre-commit hook on every file (installs pre-commit and the pinned hooks when missing)
	$(PYTHON) tools/run_lint.py

pot:  ## export i18n/ops_autopilot.pot from the installed addon (after strings change)
	$(PYTHON) tools/export_pot.py
