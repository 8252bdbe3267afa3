"""Local package index and OSV servers for the scan engine's tests and benchmarks.

:class:`FakePackageIndex` answers the PyPI JSON API (``GET /pypi/{name}/json``)
and the npm registry (``GET /{name}``, scoped names as ``@scope%2Fname``)
with documents shaped like the real ones (``releases`` with
``upload_time_iso_8601`` and ``yanked`` per file; ``dist-tags``,
``versions`` with ``deprecated``, ``time``). :class:`FakeOSV` answers
``POST /v1/querybatch`` (ids and ``modified`` only, per-query
``next_page_token`` when ``page_size`` is set, at most 1000 queries) and
``GET /v1/vulns/{id}``; it matches a query against the explicit
``affected[].versions`` lists of its records, as OSV does for enumerated
versions. Both are :class:`RoutedServer`: ``fail_next`` injects 429/500,
slow or garbage answers.
"""

import re
from datetime import datetime, timezone
from urllib.parse import unquote

from . import contracts
from .http_server import Response, RoutedServer


def _iso(moment):
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _pypi_name(name):
    return re.sub(r"[-_.]+", "-", name).lower()


class FakePackageIndex(RoutedServer):
    """PyPI JSON API and npm registry on one loopback server."""

    def __init__(self):
        super().__init__()
        self.pypi = {}
        self.npm = {}
        self.route("GET", r"/pypi/(?P<name>[^/]+)/json", self._pypi)
        self.route("GET", r"/(?P<name>@[^/]+(?:/|%2[fF])[^/]+|[^/@][^/]*)", self._npm)

    def add_pypi(self, name, releases, summary="", license_expression=None):
        """``releases``: version -> upload datetime, or ``(datetime, yanked)``."""
        files = {}
        for version, value in releases.items():
            uploaded, yanked = value if isinstance(value, tuple) else (value, False)
            files[version] = [
                {
                    "filename": f"{name.replace('-', '_')}-{version}.tar.gz",
                    "packagetype": "sdist",
                    "python_version": "source",
                    "size": 12_345,
                    "upload_time": _iso(uploaded)[:19],
                    "upload_time_iso_8601": _iso(uploaded),
                    "url": f"https://files.example.invalid/{name}-{version}.tar.gz",
                    "yanked": yanked,
                    "yanked_reason": "broken build" if yanked else None,
                    "digests": {"sha256": "0" * 64},
                }
            ]
        latest = list(releases)[-1] if releases else ""
        self.pypi[_pypi_name(name)] = {
            "info": {
                "name": name,
                "version": latest,
                "summary": summary,
                "license_expression": license_expression,
                "project_urls": {},
                "yanked": False,
            },
            "last_serial": 1,
            "releases": files,
            "urls": files.get(latest, []),
            "vulnerabilities": [],
        }

    def add_npm(self, name, versions, deprecated=(), latest=None):
        """``versions``: version -> publish datetime; ``deprecated`` lists deprecated versions."""
        created = min(versions.values()) if versions else datetime(2020, 1, 1, tzinfo=timezone.utc)
        document = {
            "_id": name,
            "name": name,
            "dist-tags": {"latest": latest or (list(versions)[-1] if versions else "")},
            "versions": {},
            "time": {"created": _iso(created), "modified": _iso(max(versions.values(), default=created))},
            "license": "MIT",
        }
        for version, published in versions.items():
            manifest = {
                "name": name,
                "version": version,
                "dist": {"tarball": f"https://registry.example.invalid/{name}/-/{version}.tgz", "shasum": "0" * 40},
            }
            if version in deprecated:
                manifest["deprecated"] = "this version has a critical bug"
            document["versions"][version] = manifest
            document["time"][version] = _iso(published)
        self.npm[name] = document  # the npm registry is case-sensitive: JSONStream is not jsonstream

    def _pypi(self, request):
        document = self.pypi.get(_pypi_name(unquote(request.params["name"])))
        if document is None:
            return Response(404, {"message": "Not Found"})
        return Response(200, document)

    def _npm(self, request):
        document = self.npm.get(unquote(request.params["name"]))
        if document is None:
            return Response(404, {"error": "Not found"})
        return Response(200, document)


class FakeOSV(RoutedServer):
    """``/v1/querybatch`` and ``/v1/vulns/{id}`` over records added with :meth:`add_vuln`.

    Every answer is held to OSV's published record schema (:func:`.contracts.check_osv_answer`).
    """

    def __init__(self, page_size=None):
        super().__init__()
        self.vulns = {}
        self.page_size = page_size
        self.route("POST", r"/v1/querybatch", self._querybatch)
        self.route("GET", r"/v1/vulns/(?P<vuln_id>[^/]+)", self._vuln)

    def add_vuln(self, record):
        self.vulns[record["id"]] = record
        return record

    def dispatch(self, request):
        response = super().dispatch(request)
        contracts.check_osv_answer(request, response)
        return response

    def _matches(self, query):
        package = query.get("package") or {}
        ecosystem, name, version = package.get("ecosystem"), package.get("name", ""), query.get("version")
        # OSV normalises PyPI names (PEP 503); npm names are matched exactly, as npm treats them
        norm = _pypi_name if ecosystem == "PyPI" else str
        found = []
        for vuln_id, record in sorted(self.vulns.items()):
            for entry in record.get("affected", []):
                pkg = entry.get("package", {})
                same_package = pkg.get("ecosystem") == ecosystem and norm(pkg.get("name", "")) == norm(name)
                if same_package and version in entry.get("versions", []):
                    found.append({"id": vuln_id, "modified": record.get("modified", "2026-01-01T00:00:00Z")})
                    break
        return found

    def _querybatch(self, request):
        try:
            queries = (request.json() or {}).get("queries")
        except ValueError:
            return Response(400, {"code": 3, "message": "Invalid JSON"})
        if not isinstance(queries, list):
            return Response(400, {"code": 3, "message": "queries must be a list"})
        if len(queries) > 1000:
            return Response(400, {"code": 3, "message": "Too many queries."})
        results = []
        for query in queries:
            found = self._matches(query)
            start = int(query.get("page_token") or 0)
            if self.page_size:
                page = found[start : start + self.page_size]
                result = {"vulns": page} if page else {}
                if start + self.page_size < len(found):
                    result["next_page_token"] = str(start + self.page_size)
            else:
                result = {"vulns": found} if found else {}
            results.append(result)
        return Response(200, {"results": results})

    def _vuln(self, request):
        record = self.vulns.get(unquote(request.params["vuln_id"]))
        if record is None:
            return Response(404, {"code": 5, "message": "Bug not found."})
        return Response(200, record)
