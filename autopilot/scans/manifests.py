"""Read a repository's dependency manifests through the GitHub contents API.

Decides which manifests a scan reads (the paths the repository record
lists, ``requirements*.txt`` / ``pyproject.toml`` / ``package.json`` by
default), follows ``-r`` includes through the same API, and turns what it
finds into one :class:`~.dependencies.ParseResult`. A path with ``*``, ``?``
or ``[`` in its file name is a pattern: the folder is listed through the
contents API and every file whose name matches is read (a folder part stays
literal). A dependency reached twice (a file matched by the pattern and also
included with ``-r``) counts once. A missing manifest is normal (listed in
``missing``); an unreadable one is listed in ``errors`` with its reason; an
unreachable GitHub raises a :class:`~..common.errors.ServiceError`.
"""

import fnmatch
import posixpath
from dataclasses import dataclass

from github import GithubException
from requests import RequestException

from ..common.errors import TooLarge
from ..github import rest_api
from ..github.rest_api import from_github, github_call
from . import dependencies

MAX_FILE_BYTES = dependencies.MAX_MANIFEST_BYTES


def read_text(repo, path, ref=None, max_bytes=MAX_FILE_BYTES):
    """A file's text at ``ref`` (default branch when None), or None when it does not exist."""
    try:
        kwargs = {"ref": ref} if ref else {}
        content = repo.get_contents(path, **kwargs)
    except GithubException as exc:
        if exc.status == 404:
            return None
        raise from_github(exc) from None
    except (RequestException, OSError) as exc:
        raise from_github(exc) from None
    if isinstance(content, list) or getattr(content, "type", "file") != "file":
        return None
    if (content.size or 0) > max_bytes:
        raise TooLarge("GitHub", f"{path} larger than {max_bytes} bytes")
    try:
        data = rest_api.content_bytes(repo, content)
    except (GithubException, RequestException, OSError) as exc:
        raise from_github(exc) from None
    return data.decode("utf-8", errors="replace")


def is_pattern(path):
    return any(char in posixpath.basename(path) for char in "*?[")


def list_files(repo, folder, ref=None):
    """Paths of the files directly inside ``folder`` (``""``: the root) at ``ref``; empty when absent."""
    try:
        kwargs = {"ref": ref} if ref else {}
        entries = repo.get_contents(folder, **kwargs)
    except GithubException as exc:
        if exc.status == 404:
            return []
        raise from_github(exc) from None
    except (RequestException, OSError) as exc:
        raise from_github(exc) from None
    if not isinstance(entries, list):
        return []
    return sorted(entry.path for entry in entries if getattr(entry, "type", "") == "file")


def expand_paths(repo, paths, ref=None):
    """``paths`` with their patterns replaced by the matching files (order kept, duplicates dropped).

    Returns ``(paths, unmatched patterns)``; each folder is listed once.
    """
    listings, expanded, unmatched = {}, [], []
    for path in paths:
        if not is_pattern(path):
            expanded.append(path)
            continue
        folder, pattern = posixpath.split(path.strip("/"))
        if folder not in listings:
            listings[folder] = list_files(repo, folder, ref)
        matches = [p for p in listings[folder] if fnmatch.fnmatchcase(posixpath.basename(p), pattern)]
        expanded += matches
        if not matches:
            unmatched.append(path)
    return tuple(dict.fromkeys(expanded)), tuple(unmatched)


def _unique(result):
    """The dependencies and unparseable lines of ``result`` once each (same file and line)."""
    deps, bad = {}, {}
    for dep in result.dependencies:
        deps.setdefault((dep.ecosystem, dep.name, dep.file, dep.line), dep)
    for line in result.unparseable:
        bad.setdefault((line.file, line.line, line.text), line)
    return dependencies.ParseResult(tuple(deps.values()), tuple(bad.values()))


@dataclass(frozen=True)
class ManifestScan:
    result: dependencies.ParseResult
    #: manifests that do not exist at that ref
    missing: tuple = ()
    #: ``(path, reason)`` of manifests that could not be parsed
    errors: tuple = ()
    #: the commit the files were read at
    ref: str = ""


def collect_dependencies(client, full_name, paths=dependencies.DEFAULT_MANIFESTS, ref=None):
    """Parse every manifest in ``paths`` at ``ref`` (default: the default branch head)."""
    repo = github_call("GitHub", client.get_repo, full_name)
    if not ref:
        branch = github_call("GitHub", repo.get_branch, repo.default_branch)
        ref = branch.commit.sha
    result, errors = dependencies.ParseResult(), []
    paths, unmatched = expand_paths(repo, paths, ref)
    missing = list(unmatched)

    def loader(path):
        return read_text(repo, path, ref)

    for path in paths:
        text = read_text(repo, path, ref)
        if text is None:
            missing.append(path)
            continue
        try:
            result = result + dependencies.parse_manifest(path, text, loader)
        except dependencies.ManifestError as exc:
            errors.append((path, str(exc)))
    return ManifestScan(_unique(result), tuple(missing), tuple(errors), ref)
