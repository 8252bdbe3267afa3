"""Bounded downloads through the GitHub API, and safe reading of the archives they bring.

Decides what of a downloaded archive may be used: regular files only (no
symbolic or hard links, devices or FIFOs), relative paths that stay inside
the archive (no absolute paths, no ``..``), nothing bigger than the per-file
cap, and no more than the file-count and total-size caps (what is left out
is listed with its reason, so a report can say the scan was partial).

Downloads ask the API through PyGithub's requester (authentication, API
version, timeout, retries), which answers with a 302 to a signed URL on a
storage host (``codeload.github.com``, ``*.blob.core.windows.net`` for
upload-artifact v4). That URL is followed here with ``requests``, without
the token, with the client's timeout, streamed, and stopped with
:class:`~..common.errors.TooLarge` past the byte cap. (PyGithub's own
``getStream`` refuses a redirect to a host it does not know with an
``AssertionError``, and opens that connection without a timeout.)
"""

import io
import json
import posixpath
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import requests
from github import GithubException
from requests import RequestException

from ..common.errors import BadAnswer, TooLarge, classify_status, read_capped
from .rest_api import from_github

MAX_ARCHIVE_BYTES = 200 * 1024 * 1024
MAX_FILE_BYTES = 1024 * 1024
MAX_FILES = 20_000
MAX_TOTAL_BYTES = 500 * 1024 * 1024


CHUNK = 65536


def download_location(client, path):
    """The signed URL GitHub redirects a download (``path``, API-relative) to.

    GitHub documents a 302 for every download endpoint; any other success is
    not an answer this client can use.
    """
    requester = client.requester
    try:
        status, headers, body = requester.requestJson("GET", path)
    except (GithubException, RequestException, OSError) as exc:
        raise from_github(exc) from None
    if status >= 400:
        raise from_github(requester.createException(status, headers, _json_or_none(body))) from None
    location = (headers or {}).get("location")
    if status not in (301, 302, 303, 307, 308) or not location:
        raise BadAnswer("GitHub", f"answered {status} to a download without the redirect it documents")
    return urljoin(requester.base_url.rstrip("/") + "/", location)


def _json_or_none(body):
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


def stream_download(client, path, max_bytes, what="download"):
    """GET ``path`` (API-relative) as bytes: ask the API, follow its redirect; at most ``max_bytes``."""
    location = download_location(client, path)
    timeout = client.requester.kwargs.get("timeout") or 15
    try:
        # no Authorization header: the signed URL is the credential, and storage hosts refuse a token
        with requests.get(location, stream=True, timeout=timeout, allow_redirects=True) as answer:
            if answer.status_code >= 400:
                raise classify_status("GitHub", answer.status_code, answer.headers, f"{what} download")
            length = str(answer.headers.get("content-length") or "")
            if length.isdigit() and int(length) > max_bytes:
                raise TooLarge("GitHub", f"{what} is {length} bytes, over the {max_bytes} byte cap")
            return read_capped(answer.iter_content(CHUNK), max_bytes, "GitHub", what)
    except RequestException as exc:
        raise from_github(exc) from None


def download_tarball(client, full_name, ref, max_bytes=MAX_ARCHIVE_BYTES):
    """The ``.tar.gz`` of ``ref`` (``GET /repos/{owner}/{repo}/tarball/{ref}``)."""
    return stream_download(client, f"/repos/{full_name}/tarball/{ref}", max_bytes, f"tarball of {ref}")


@dataclass(frozen=True)
class ArchiveFiles:
    #: relative path -> content (for :func:`extract_tarball`: relative path -> written path)
    files: dict
    #: ``(path, reason)`` of members left out
    skipped: tuple = ()

    @property
    def complete(self):
        return not any(reason in ("file limit", "size limit") for _path, reason in self.skipped)


def safe_relative(name, strip_root=False):
    """The member's path relative to the archive root, or None when it would escape it."""
    if not name or "\x00" in name or "\\" in name:
        return None
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return None
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if strip_root:
        parts = parts[1:]
    if not parts or ".." in parts:
        return None
    return posixpath.join(*parts)


def _limits_reached(count, total, size, max_files, max_total_bytes):
    if count >= max_files:
        return "file limit"
    if total + size > max_total_bytes:
        return "size limit"
    return None


def iter_tar_members(
    data,
    include=None,
    max_file_bytes=MAX_FILE_BYTES,
    max_files=MAX_FILES,
    max_total_bytes=MAX_TOTAL_BYTES,
    strip_root=True,
):
    """Yield ``(relative path, bytes | None, reason)``: content for kept files, a reason for skipped ones."""
    try:
        archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:*")  # noqa: SIM115 - closed by the with below
    except (tarfile.TarError, OSError, EOFError):
        raise BadAnswer("GitHub", "archive is not a readable tar file") from None
    count = total = 0
    with archive:
        try:
            for member in archive:
                path = safe_relative(member.name, strip_root)
                if member.isdir():
                    continue
                if path is None:
                    yield member.name[:200], None, "unsafe path"
                elif member.issym() or member.islnk():
                    yield path, None, "link"
                elif not member.isfile():
                    yield path, None, "not a regular file"
                elif include is not None and not include(path):
                    continue
                elif member.size > max_file_bytes:
                    yield path, None, "too large"
                else:
                    limit = _limits_reached(count, total, member.size, max_files, max_total_bytes)
                    if limit:
                        yield path, None, limit
                        continue
                    handle = archive.extractfile(member)
                    content = handle.read(max_file_bytes + 1) if handle else b""
                    if len(content) > max_file_bytes:
                        yield path, None, "too large"
                        continue
                    count, total = count + 1, total + len(content)
                    yield path, content, ""
        except (tarfile.TarError, OSError, EOFError, ValueError):
            raise BadAnswer("GitHub", "archive is truncated or corrupt") from None


def read_tarball(data, include=None, **limits):
    """The archive's kept files in memory (see :func:`iter_tar_members` for the rules)."""
    files, skipped = {}, []
    for path, content, reason in iter_tar_members(data, include, **limits):
        if content is None:
            skipped.append((path, reason))
        else:
            files[path] = content
    return ArchiveFiles(files, tuple(skipped))


def extract_tarball(data, dest, include=None, **limits):
    """Write the archive's kept files under ``dest`` (which must be empty or new); never outside it."""
    root = Path(dest).resolve()
    root.mkdir(parents=True, exist_ok=True)
    written, skipped = {}, []
    for path, content, reason in iter_tar_members(data, include, **limits):
        if content is None:
            skipped.append((path, reason))
            continue
        target = (root / path).resolve()
        if root not in target.parents:
            skipped.append((path, "unsafe path"))
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists() or target.is_symlink():
            skipped.append((path, "duplicate"))
            continue
        target.write_bytes(content)
        written[path] = str(target)
    return ArchiveFiles(written, tuple(skipped))


def read_zip(data, max_file_bytes=MAX_FILE_BYTES * 20, max_files=1000, max_total_bytes=MAX_TOTAL_BYTES):
    """The regular files of a zip archive in memory, with the same path and size rules as tarballs."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError):
        raise BadAnswer("GitHub", "artifact is not a zip archive") from None
    files, skipped, total = {}, [], 0
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            path = safe_relative(info.filename)
            mode = (info.external_attr >> 16) & 0o170000
            if path is None:
                skipped.append((info.filename[:200], "unsafe path"))
            elif mode == 0o120000:
                skipped.append((path, "link"))
            elif info.file_size > max_file_bytes:
                skipped.append((path, "too large"))
            elif limit := _limits_reached(len(files), total, info.file_size, max_files, max_total_bytes):
                skipped.append((path, limit))
            else:
                try:
                    with archive.open(info) as handle:
                        content = handle.read(max_file_bytes + 1)
                except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError):
                    raise BadAnswer("GitHub", f"artifact member {path} is corrupt or encrypted") from None
                if len(content) > max_file_bytes:
                    skipped.append((path, "too large"))
                    continue
                files[path] = content
                total += len(content)
    return ArchiveFiles(files, tuple(skipped))
