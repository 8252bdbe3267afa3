"""pyproject.toml's build backend: OCA's whool, and the engine's command line as a console script.

whool builds ``odoo-addon-ops_autopilot`` (the git-tracked files under
``odoo/addons/ops_autopilot/``, version and dependencies from the manifest) but
has no way to declare entry points. Every hook here is whool's; after whool
has packed the wheel, :func:`build_wheel` unpacks it, adds an
``entry_points.txt`` declaring :data:`CONSOLE_SCRIPTS` to its ``.dist-info``
and packs it again with ``wheel pack`` (which writes ``RECORD`` anew). The
metadata pip asks for before the build carries the same file.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

from whool import buildapi
from whool.buildapi import build_sdist, prepare_metadata_for_build_editable

__all__ = ["build_editable", "build_sdist", "build_wheel", "prepare_metadata_for_build_editable"]
__all__ += ["prepare_metadata_for_build_wheel"]

#: ``name = module:function`` of each command the wheel installs
CONSOLE_SCRIPTS = {"ops-autopilot": "odoo.addons.ops_autopilot.autopilot.cli:main"}


def _entry_points():
    lines = ["[console_scripts]", *(f"{name} = {target}" for name, target in sorted(CONSOLE_SCRIPTS.items()))]
    return "\n".join(lines) + "\n"


def _wheel(*args, cwd):
    subprocess.run([sys.executable, "-m", "wheel", *args], check=True, cwd=cwd, stdout=subprocess.DEVNULL)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    name = buildapi.build_wheel(wheel_directory, config_settings, metadata_directory)
    built = Path(wheel_directory).resolve() / name
    with tempfile.TemporaryDirectory() as tmp:
        _wheel("unpack", "--dest", tmp, str(built), cwd=tmp)
        (unpacked,) = Path(tmp).iterdir()
        (dist_info,) = unpacked.glob("*.dist-info")
        dist_info.joinpath("entry_points.txt").write_text(_entry_points())
        built.unlink()
        _wheel("pack", "--dest-dir", str(built.parent), str(unpacked), cwd=tmp)
    return name


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return buildapi.build_editable(wheel_directory, config_settings, metadata_directory)


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    name = buildapi.prepare_metadata_for_build_wheel(metadata_directory, config_settings)
    Path(metadata_directory, name, "entry_points.txt").write_text(_entry_points())
    return name
