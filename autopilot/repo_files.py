"""Read a repository's dependency manifests through the GitHub contents API.

Decides which manifests a scan reads (the paths the repository record
lists, ``requirements.txt`` / ``pyproject.toml`` / ``package.json`` by
default), follows ``-r`` includes through the same API, and turns what it
finds into one :class:`~.dependencies.ParseResult`. A missing manifest is
normal (listed in ``missing``); an unreadable one is listed in ``errors``
with its reason; an unreachable GitHub raises a :class:`~.scan_http.ScanError`.
"""

from dataclasses import dataclass

from github import GithubException
from requests import RequestException

from . import dependencies
from .scan_http import TooLarge, from_github, github_call

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
    return content.decoded_content.decode("utf-8", errors="replace")


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
    result, missing, errors = dependencies.ParseResult(), [], []

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
    return ManifestScan(result, tuple(missing), tuple(errors), ref)
