#!/usr/bin/env python3
"""Bring up a demo server: Odoo 18 with ops_autopilot and its demo data on http://localhost:8069.

The database (``ops_autopilot_demo``, or ``DEMO_DB``) is created and the addon
installed with demo data the first time; later runs reuse it. Log in as
admin / admin. ``DEMO_PORT`` changes the port.
"""

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import devenv


def module_installed(database):
    import psycopg2  # noqa: PLC0415 - it comes with Odoo's requirements, which devenv.prepare() may install first

    with psycopg2.connect(dbname=database, connect_timeout=5) as conn, conn.cursor() as cr:
        cr.execute("SELECT to_regclass('ir_module_module') IS NOT NULL")
        if not cr.fetchone()[0]:
            return False
        cr.execute("SELECT state FROM ir_module_module WHERE name = %s", (devenv.MODULE,))
        row = cr.fetchone()
        return bool(row and row[0] == "installed")


def main():
    try:
        odoo = devenv.prepare()
    except devenv.SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    database = os.environ.get("DEMO_DB", "ops_autopilot_demo")
    port = os.environ.get("DEMO_PORT", "8069")
    base = [*devenv.odoo_launcher(odoo), "--database", database, f"--addons-path={devenv.addons_path(odoo)}"]
    env = devenv.odoo_env(odoo)
    if not (devenv.database_exists(database) and module_installed(database)):
        devenv.say(f"creating database {database} with ops_autopilot and its demo data")
        code = subprocess.run([*base, "--init", devenv.MODULE, "--stop-after-init"], env=env, check=False).returncode
        if code:
            print(f"error: installing ops_autopilot in {database} failed (exit {code})", file=sys.stderr)
            return code
    devenv.say(f"Ops Autopilot demo on http://localhost:{port} (admin / admin), database {database}")
    command = [*base, f"--db-filter=^{database}$", f"--http-port={port}"]
    os.execve(command[0], command, env)


if __name__ == "__main__":
    sys.exit(main())
