"""Workflow-run artifacts: list them, download one, read the scanner reports inside.

Decides which artifact of a run to read (by name, not expired, under the
size cap) and turns its zip into files with :func:`~..github.archives.read_zip`
(no path escapes, no links, capped sizes). :func:`read_reports` then parses
every JSON / SARIF file with :mod:`.reports`, keeping per-file errors
next to the results so one broken report does not hide the others.
"""

from dataclasses import dataclass

from ..common.errors import BadAnswer, TooLarge
from ..github import events
from ..github.archives import read_zip, stream_download
from ..github.rest_api import github_call, paginate
from .reports import ReportFormatError, parse_report

MAX_ARTIFACT_BYTES = 100 * 1024 * 1024
REPORT_SUFFIXES = (".json", ".sarif", ".sarif.json")


@dataclass(frozen=True)
class Artifact:
    id: int
    name: str
    size_in_bytes: int
    expired: bool
    created_at: object = None


def _artifact(raw, index):
    path = f"artifacts[{index}]"
    if not isinstance(raw, dict):
        raise BadAnswer("GitHub", f"{path} is not an object")
    artifact_id, name, size = raw.get("id"), raw.get("name"), raw.get("size_in_bytes", 0)
    if isinstance(artifact_id, bool) or not isinstance(artifact_id, int) or artifact_id <= 0:
        raise BadAnswer("GitHub", f"{path}.id is not a positive integer")
    if not isinstance(name, str) or not name:
        raise BadAnswer("GitHub", f"{path}.name is missing")
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise BadAnswer("GitHub", f"{path}.size_in_bytes is not a size")
    try:
        created = events.parse_timestamp(raw.get("created_at"), f"{path}.created_at")
    except events.PayloadError as exc:
        raise BadAnswer("GitHub", str(exc)) from None
    return Artifact(artifact_id, name, size, bool(raw.get("expired")), created)


def list_artifacts(client, full_name, run_id, name=None):
    """The run's artifacts (``GET .../actions/runs/{run_id}/artifacts``), optionally only ``name``."""
    path = f"/repos/{full_name}/actions/runs/{int(run_id)}/artifacts"
    params = {"name": name} if name else None
    raw = github_call("GitHub", lambda: list(paginate(client, path, params, "artifacts")))
    found = [_artifact(item, index) for index, item in enumerate(raw)]
    return [a for a in found if not name or a.name == name]


@dataclass(frozen=True)
class ArtifactFiles:
    artifact: Artifact
    files: dict
    skipped: tuple = ()


def download_artifact(client, full_name, artifact, max_bytes=MAX_ARTIFACT_BYTES, **zip_limits):
    """Download an artifact's zip (``GET .../actions/artifacts/{id}/zip``) and unzip it in memory."""
    if artifact.expired:
        raise BadAnswer("GitHub", f"artifact {artifact.name} has expired")
    if artifact.size_in_bytes > max_bytes:
        raise TooLarge("GitHub", f"artifact {artifact.name} is {artifact.size_in_bytes} bytes, cap {max_bytes}")
    data = stream_download(
        client, f"/repos/{full_name}/actions/artifacts/{artifact.id}/zip", max_bytes, f"artifact {artifact.name}"
    )
    archive = read_zip(data, **zip_limits)
    return ArtifactFiles(artifact, archive.files, archive.skipped)


@dataclass(frozen=True)
class ReportFile:
    path: str
    #: a :class:`~.reports.ReportResult`, or None when ``error`` is set
    result: object = None
    error: str = ""


def read_reports(files, fmt="auto"):
    """Parse every report-like file (``.json``, ``.sarif``) of an artifact."""
    reports = []
    for path in sorted(files):
        if not path.lower().endswith(REPORT_SUFFIXES):
            continue
        try:
            reports.append(ReportFile(path, parse_report(files[path], fmt)))
        except ReportFormatError as exc:
            reports.append(ReportFile(path, None, str(exc)))
    return reports
