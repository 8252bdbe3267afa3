"""The wheel users install: ``pip wheel .`` with OCA's whool (pyproject.toml's build backend).

whool names the distribution after the addon's directory and ships the files
git tracks there. The build here runs on a copy of the checkout's tracked
files, as they are in the work tree, in a directory named ``ops_autopilot``
holding a git repository of its own: what a clean clone gives, whatever the
checkout's own name, and never what happens to lie untracked beside it.
"""

import ast
import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from autopilot.testing.fixtures import REPO

ADDON = "ops_autopilot"
PREFIX = f"odoo/addons/{ADDON}/"
#: never in the wheel, even when present in the directory it is built from
UNSHIPPED = (".git", ".test-logs", ".bench-results", "__pycache__", ".pytest_cache", ".hypothesis", "dist")
ENGINE_PACKAGES = ("common", "github", "ingest", "selfheal", "monitoring", "scans", "review", "cli", "testing", "data")


def git(cwd, *args):
    command = ["git", "-c", "user.name=packaging test", "-c", "user.email=test@localhost", "-c", "commit.gpgsign=false"]
    return subprocess.run([*command, *args], cwd=cwd, check=True, capture_output=True, text=True, timeout=60).stdout


def manifest():
    return ast.literal_eval((REPO / "__manifest__.py").read_text())


def tracked_files():
    if not (REPO / ".git").exists():
        pytest.skip(f"{REPO} is not a git checkout (an installed addon?): whool builds from the files git tracks")
    listed = git(REPO, "ls-files", "-z").split("\0")
    # a file deleted in the work tree and not yet committed leaves with that commit
    return sorted(path for path in listed if path and (REPO / path).is_file())


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """``(wheel path, tracked files)`` of the wheel built from a copy of the checkout."""
    if importlib.util.find_spec("whool") is None:
        pytest.skip("whool is not installed (requirements-test.txt): the wheel cannot be built")
    tmp = tmp_path_factory.mktemp("packaging")
    source = tmp / ADDON
    files = tracked_files()
    for path in files:
        (source / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / path, source / path, follow_symlinks=False)
    git(source, "init", "--quiet")
    git(source, "add", "--all", "--force")
    git(source, "commit", "--quiet", "--no-verify", "--message", "the checkout's tracked files")
    # left untracked, as a developer's run leaves them: none may ship
    for stray in (".test-logs/odoo.log", "autopilot/__pycache__/cli.cpython-311.pyc", ".bench-results/x.json", "x.whl"):
        (source / stray).parent.mkdir(parents=True, exist_ok=True)
        (source / stray).write_text("not shipped\n")
    dist = tmp / "dist"
    command = [sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "--no-index", "-w", dist, "."]
    result = subprocess.run(command, cwd=source, capture_output=True, text=True, check=False, timeout=600)
    assert result.returncode == 0, f"pip wheel failed:\n{result.stdout}\n{result.stderr}"
    (wheel,) = dist.glob("*.whl")
    return wheel, files


def test_wheel_is_named_and_versioned_from_the_manifest(built):
    wheel, _ = built
    version = manifest()["version"]
    assert wheel.name == f"odoo_addon_{ADDON}-{version}-py3-none-any.whl"
    metadata = read_metadata(wheel)
    assert (metadata["Name"], metadata["Version"]) == (f"odoo-addon-{ADDON}", version)
    assert metadata["License"] == manifest()["license"]


def test_wheel_requires_odoo_18_and_every_python_dependency_of_the_manifest(built):
    required = {str(Requirement(line)) for line in read_metadata(built[0]).get_all("Requires-Dist")}
    declared = {str(Requirement(line)) for line in manifest()["external_dependencies"]["python"]}
    assert required == declared | {"odoo==18.0.*"}


def test_wheel_holds_the_addon_as_git_tracks_it(built):
    wheel, tracked = built
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    shipped = {name.removeprefix(PREFIX) for name in names if name.startswith(PREFIX)}
    assert shipped == set(tracked) - {"pyproject.toml"}
    assert not [name for name in names if not name.startswith(PREFIX) and ".dist-info/" not in name]
    # what Odoo loads when it installs the addon
    loaded = ["__init__.py", "__manifest__.py", *manifest()["data"], *manifest()["demo"]]
    assert not [path for path in loaded if path not in shipped]
    for folder in ("static/src/", "security/", "views/", "models/", "controllers/"):
        assert any(path.startswith(folder) for path in shipped), folder
    # the engine with its data: the diagnosis corpus and the scanner report samples
    for package in ENGINE_PACKAGES:
        assert any(path.startswith(f"autopilot/{package}/") for path in shipped), package
    for category in (REPO / "autopilot/data/diagnosis_corpus").iterdir():
        assert any(path.startswith(f"autopilot/data/diagnosis_corpus/{category.name}/") for path in shipped)
    assert {"autopilot/__init__.py", "autopilot/__main__.py", "autopilot/data/scan_samples/pip-audit.json"} <= shipped
    unshipped = [name for name in shipped if set(Path(name).parts) & set(UNSHIPPED) or name.endswith((".pyc", ".whl"))]
    assert not unshipped


def test_wheel_installs_the_engine_command_line_as_ops_autopilot(built):
    with zipfile.ZipFile(built[0]) as archive:
        (name,) = [name for name in archive.namelist() if name.endswith(".dist-info/entry_points.txt")]
        (record,) = [name for name in archive.namelist() if name.endswith(".dist-info/RECORD")]
        entry_points = archive.read(name).decode()
        recorded = archive.read(record).decode()
    assert entry_points.splitlines() == ["[console_scripts]", f"ops-autopilot = odoo.addons.{ADDON}.autopilot.cli:main"]
    assert f"{name}," in recorded, "RECORD lists the added file (pip refuses a wheel whose RECORD is wrong)"


def test_installed_engine_runs_its_command_line(built, tmp_path):
    if importlib.util.find_spec("odoo") is None:
        pytest.skip("Odoo is not importable by this Python: importing the installed addon imports odoo")
    site = tmp_path / "site"
    install = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target", site, built[0]]
    subprocess.run(install, check=True, capture_output=True, timeout=600)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}
    module = f"odoo.addons.{ADDON}.autopilot"
    installed = site / PREFIX
    log = sorted((installed / "autopilot/data/diagnosis_corpus/dependency_missing").glob("*.log"))[0]

    def run(*args):
        # the work directory is not the repository: the engine cannot be imported as ``autopilot`` from there
        return subprocess.run(
            [sys.executable, "-m", module, *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    usage = run("--help")
    assert usage.returncode == 0, usage.stderr
    assert usage.stdout.startswith(f"usage: python3 -m {module} ")
    script = subprocess.run(
        [site / "bin" / "ops-autopilot", "--help"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert script.returncode == 0, script.stderr
    assert script.stdout.startswith("usage: ops-autopilot ") and "diagnose" in script.stdout
    diagnosis = run("diagnose", str(log))
    assert diagnosis.returncode == 0, diagnosis.stderr
    assert '"category": "dependency_missing"' in diagnosis.stdout


def read_metadata(wheel):
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        return Parser().parsestr(archive.read(name).decode())
