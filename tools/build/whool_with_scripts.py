"""pyproject.toml's build backend: OCA's whool, and the engine's command line as a console script.

whool builds ``odoo-addon-ops_autopilot`` (the git-tracked files under
``odoo/addons/ops_autopilot/``, version and dependencies from the manifest) but
has no way to declare entry points. Every hook here is whool's; after whool
has packed a wheel (editable or not), the hooks unpack it, add an
``entry_points.txt`` declaring :data:`CONSOLE_SCRIPTS` to its ``.dist-info``
and pack it again with ``wheel pack`` (which writes ``RECORD`` anew). The
metadata pip asks for before the build carries the same file. Like whool,
the addon's name is the name of the directory the build runs in.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

from whool import buildapi
from whool.buildapi import build_sdist

__all__ = [
    "build_editable",
    "build_sdist",
    "build_wheel",
    "prepare_metadata_for_build_editable",
    "prepare_metadata_for_build_wheel",
]

#: each command the wheel installs, and the function of the addon's engine it runs
CONSOLE_SCRIPTS = {"ops-autopilot": "autopilot.cli:main"}


def _entry_points():
    package = f"odoo.addons.{Path.cwd().name}"
    lines = ["[console_scripts]", *(f"{name} = {package}.{target}" for name, target in sorted(CONSOLE_SCRIPTS.items()))]
    return "\n".join(lines) + "\n"


def _wheel(*args, cwd):
    subprocess.run([sys.executable, "-m", "wheel", *args], check=True, cwd=cwd, stdout=subprocess.DEVNULL)


def _with_entry_points(wheel_directory, name):
    built = Path(wheel_directory).resolve() / name
    with tempfile.TemporaryDirectory() as tmp:
        _wheel("unpack", "--dest", tmp, str(built), cwd=tmp)
        (unpacked,) = Path(tmp).iterdir()
        (dist_info,) = unpacked.glob("*.dist-info")
        dist_info.joinpath("entry_points.txt").write_text(_entry_points())
        built.unlink()
        _wheel("pack", "--dest-dir", str(built.parent), str(unpacked), cwd=tmp)
    return name


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _with_entry_points(wheel_directory, buildapi.build_wheel(wheel_directory, config_settings))


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _with_entry_points(wheel_directory, buildapi.build_editable(wheel_directory, config_settings))


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    name = buildapi.prepare_metadata_for_build_wheel(metadata_directory, config_settings)
    Path(metadata_directory, name, "entry_points.txt").write_text(_entry_points())
    return name


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel
