"""Published contracts shipped inside PyPI packages, unpacked outside the repository.

The OSV project publishes its record format as a JSON schema
(``validation/schema.json`` of ossf/osv-schema); the ``osv`` package on PyPI
carries that repository. :data:`PINNED` names the package, its version and the
file inside the wheel. :func:`ensure` downloads the wheel with pip (no install,
no dependencies) into ``~/.cache/ops_autopilot/pypi`` (``OPS_PYPI_CACHE``
elsewhere) and unpacks that one file, never into the repository; where the
download is impossible the checks that need it are skipped with
:data:`UNAVAILABLE`.

Standard library only: ``tools/devenv.py`` loads this file by path.
"""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

#: contract name -> (PyPI distribution, version, file inside the wheel)
PINNED = {"osv-schema": ("osv", "0.0.22", "osv/osv-schema/validation/schema.json")}
PREFIX = Path(
    os.environ.get("OPS_PYPI_CACHE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ops_autopilot" / "pypi"
)
UNAVAILABLE = (
    "the published contracts ("
    + ", ".join(f"{dist}=={version}" for dist, version, _member in PINNED.values())
    + f") could not be downloaded from PyPI into {PREFIX}: check pip's access to PyPI, then run the tests again"
)


def path(name):
    """Where the unpacked contract file lives (it may not exist yet)."""
    dist, version, member = PINNED[name]
    return PREFIX / f"{dist}-{version}" / Path(member).name


def missing():
    return [name for name in PINNED if not path(name).is_file()]


def ensure(timeout=300):
    """Download and unpack the contracts that are missing; return the names still missing."""
    for name in missing():
        dist, version, member = PINNED[name]
        downloads = PREFIX / "wheels"
        command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:"]
        command += ["--dest", str(downloads), f"{dist}=={version}"]
        subprocess.run(command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=timeout)
        for wheel in downloads.glob(f"{dist}-{version}-*.whl"):
            with zipfile.ZipFile(wheel) as archive:
                if member in archive.namelist():
                    target = path(name)
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(archive.read(member))
    return missing()
