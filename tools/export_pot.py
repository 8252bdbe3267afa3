#!/usr/bin/env python3
"""Export ``i18n/ops_autopilot.pot``: the addon installed without demo on a scratch database, then exported by Odoo.

``make pot`` runs it after strings change; ``tests/test_i18n.py`` fails until it has.
"""

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import devenv

TARGET = devenv.ROOT / "i18n" / f"{devenv.MODULE}.pot"


def main():
    try:
        odoo = devenv.prepare()
    except devenv.SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    database = f"{devenv.MODULE}_pot_{os.getpid()}"
    TARGET.parent.mkdir(exist_ok=True)
    try:
        devenv.install_addon(odoo, database)
        command = devenv.odoo_command(
            odoo,
            database,
            f"--i18n-export={TARGET}",
            f"--modules={devenv.MODULE}",
            "--stop-after-init",
            "--log-level=warn",
        )
        subprocess.run(command, env=devenv.odoo_env(odoo), check=True)
    finally:
        devenv.drop_database(database)
    print(f"wrote {TARGET.relative_to(devenv.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
