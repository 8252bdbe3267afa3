"""Hold the fakes to the services' published contracts: GitHub's OpenAPI description and webhook schemas.

:class:`Description` reads GitHub's REST API description (``@octokit/openapi``,
see :mod:`.npm_contracts`) once per process, as published: ``api.github.com``
by default, a GitHub Enterprise Server one with ``OPS_GITHUB_DESCRIPTION``
(``ghes-3.17``). It matches a request to its operation (method and path
template), checks what the client sent (required path and query parameters and
their types, the request body against the operation's schema, the media types)
and what the fake answers (a status the operation documents, or one GitHub can
give for any operation; the body against that status's schema; a ``Location``
for a redirect). ``$ref``\\ s are resolved lazily through a ``referencing``
registry and a validator is built per schema on first use, so a test run pays
for the few dozen operations it exercises, not for the whole description.

:func:`check_webhook` validates a payload against its event's schema
(``@octokit/webhooks-schemas``).

Every mismatch is recorded in :data:`LOG` with the operation (or event) and the
field, and logged as an error. The engine's tests fail the test that caused
it (``autopilot/tests/conftest.py``), so do the Odoo tests (``tests/common.py``),
and ``make test`` fails on the error line. :data:`LOG` also counts the
operations exercised and validated, written at exit to ``OPS_CONTRACT_REPORT``
when set (``tools/run_tests.py`` sums them up).
"""

import atexit
import functools
import json
import logging
import os
import re
import threading
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

from jsonschema import Draft7Validator, FormatChecker, validators
from jsonschema.exceptions import best_match
from openapi_schema_validator import OAS30ReadValidator, OAS30WriteValidator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from . import npm_contracts, pypi_contracts

_logger = logging.getLogger(__name__)

DESCRIPTION = os.environ.get("OPS_GITHUB_DESCRIPTION") or "api.github.com"
#: what GitHub may answer to any operation, whatever the description lists for it (authentication, rate and
#: abuse limits, a resource that does not exist or is hidden, server trouble)
GENERIC_STATUSES = frozenset({401, 403, 404, 410, 429, 500, 502, 503, 504})
#: and to any write: a validation failure (GitHub's ``validation-error``), documented or not for the operation
GENERIC_WRITE_STATUSES = frozenset({422})
#: the API version this product asks for (see autopilot.github.rest_api); GitHub serves it on every listed plan
API_VERSIONS = ("2022-11-28",)
_MEDIA_TYPE = re.compile(
    r"^(\*/\*|application/json|application/octet-stream|application/vnd\.github(\.v3)?"
    r"(\.(raw|html|text|full|diff|patch|object|sha|base64))?(\+json)?)$"
)
_PARAM = re.compile(r"\{([^}]+)\}")
#: where the description is narrower than GitHub's documented behaviour: ``(parameter, why)``. The workflow runs'
#: ``created`` filter is typed ``date-time`` but documented (and answered) with GitHub's search syntax
#: (``>=2026-01-01``, ``2026-01-01..2026-02-01``); such a value is checked against that syntax instead.
DESCRIPTION_GAPS = {"created": re.compile(r"^(>=|<=|>|<)?\d{4}-\d\d-\d\d(T[0-9:]+Z?)?(\.\.\S+)?$")}
_BASIC_ERROR = "/components/schemas/basic-error"


class ContractViolation(AssertionError):
    """A fake or a client broke the published contract."""


class ContractLog:
    """What the fakes were asked and answered, process-wide (the fakes run in server threads)."""

    def __init__(self):
        self._lock = threading.Lock()
        self.violations = []
        self.operations = Counter()
        self.responses = 0
        self.webhooks = Counter()

    def violation(self, where, problem):
        text = f"{where}: {problem}"
        with self._lock:
            self.violations.append(text)
        _logger.error("contract violation: %s", text)

    def mark(self):
        with self._lock:
            return len(self.violations)

    def since(self, mark):
        with self._lock:
            return list(self.violations[mark:])

    def discard_since(self, mark):
        """Forget the violations recorded since ``mark``: a test that provoked them on purpose has seen them."""
        with self._lock:
            del self.violations[mark:]

    def check_since(self, mark):
        """Raise :class:`ContractViolation` with what broke the contract since ``mark``."""
        found = self.since(mark)
        if found:
            raise ContractViolation("published contract broken:\n  " + "\n  ".join(found[:20]))

    def summary(self):
        with self._lock:
            return {
                "description": DESCRIPTION,
                "operations": dict(self.operations),
                "responses": self.responses,
                "webhooks": dict(self.webhooks),
                "violations": len(self.violations),
            }


LOG = ContractLog()


def _write_report():
    path = os.environ.get("OPS_CONTRACT_REPORT")
    if path and (LOG.operations or LOG.webhooks):
        Path(path).write_text(json.dumps(LOG.summary(), indent=1, sort_keys=True), encoding="utf-8")


atexit.register(_write_report)


def available():
    """Whether the pinned contracts are installed (npm installs them when missing and available)."""
    return not npm_contracts.ensure()


# --------------------------------------------------------------------------
# the OpenAPI description
# --------------------------------------------------------------------------


class Operation:
    def __init__(self, description, method, template, spec):
        self.method = method.upper()
        self.template = template
        self.operation_id = spec.get("operationId") or f"{method} {template}"
        self.pointer = f"/paths/{_escape(template)}/{method}"
        self.literals = sum(1 for part in template.split("/") if part and "{" not in part)
        names = _PARAM.findall(template)
        parts = list(_split(template))
        strict = "".join(f"(?P<p{i}>[^/]+)" if part.startswith("{") else re.escape(part) for i, part in parts)
        # only a template's last parameter may span slashes (a file path, a branch or ref name) or be empty
        # (``contents/`` is the root listing)
        last = max((i for i, part in parts if part.startswith("{")), default=-1)
        loose = "".join(
            (f"(?P<p{i}>.*)" if i == last and template.endswith("}") else f"(?P<p{i}>[^/]+)")
            if part.startswith("{")
            else re.escape(part)
            for i, part in parts
        )
        self.regex, self.loose = re.compile(f"^{strict}$"), re.compile(f"^{loose}$")
        self.path_names = names
        self.parameters = [description.deref(p) for p in spec.get("parameters") or []]
        self.spec = spec

    def __repr__(self):
        return f"{self.method} {self.template} ({self.operation_id})"


def _split(template):
    parts = re.split(r"(\{[^}]+\})", template)
    counter = 0
    for part in parts:
        if part.startswith("{"):
            yield counter, part
            counter += 1
        elif part:
            yield -1, part


def _escape(template):
    return template.replace("~", "~0").replace("/", "~1")


@functools.cache
def description(name=DESCRIPTION):
    """The description ``name`` (``api.github.com``, ``ghes-3.17``...), loaded once per process."""
    folder = npm_contracts.package_dir("@octokit/openapi")
    if folder is None:
        raise ContractViolation(npm_contracts.UNAVAILABLE)
    return Description(json.loads((folder / "generated" / f"{name}.json").read_text(encoding="utf-8")), name)


class Description:
    def __init__(self, document, name):
        self.name = name
        self.document = document
        self.uri = f"urn:ops-autopilot:github:{name}"
        self._registry = Registry().with_resource(self.uri, Resource(contents=document, specification=DRAFT4))
        self._read, self._write = _nullable_enums(OAS30ReadValidator), _nullable_enums(OAS30WriteValidator)
        self._formats = oas30_format_checker
        self._validators = {}
        self._lock = threading.Lock()
        self.by_method = {}
        for template, item in document["paths"].items():
            for method, spec in item.items():
                if method in ("get", "post", "put", "patch", "delete", "head"):
                    operation = Operation(self, method, template, spec)
                    self.by_method.setdefault(operation.method, []).append(operation)
        for operations in self.by_method.values():
            operations.sort(key=lambda op: (-op.literals, -len(op.template)))

    # -- lookups -----------------------------------------------------------
    def deref(self, node):
        """A ``$ref`` of the document followed (once, then again while it points at another one)."""
        while isinstance(node, dict) and "$ref" in node:
            node = self.pointer(node["$ref"])
        return node

    def pointer(self, ref):
        node = self.document
        for part in ref.lstrip("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def match(self, method, path):
        """``(operation, path parameters)`` for a request, or ``(None, None)``."""
        candidates = self.by_method.get(method.upper(), [])
        for attempt in ("regex", "loose"):
            for operation in candidates:
                found = getattr(operation, attempt).match(path)
                if found:
                    values = [unquote(found.group(f"p{i}")) for i in range(len(operation.path_names))]
                    return operation, dict(zip(operation.path_names, values, strict=True))
        return None, None

    def validator(self, pointer, direction):
        """A validator of the schema at ``pointer`` (a JSON pointer into the document), built on first use."""
        key = (pointer, direction)
        with self._lock:
            found = self._validators.get(key)
            if found is None:
                kind = self._read if direction == "response" else self._write
                found = kind({"$ref": f"{self.uri}#{pointer}"}, registry=self._registry, format_checker=self._formats)
                self._validators[key] = found
            return found

    def problems(self, pointer, direction, instance, prefix):
        errors = sorted(self.validator(pointer, direction).iter_errors(instance), key=lambda e: list(e.absolute_path))
        return [f"{prefix}{_path(e.absolute_path)}: {_short(e.message)}" for e in map(_deepest, errors[:5])]

    # -- requests ----------------------------------------------------------
    def check_request(self, operation, path_values, query, headers, body):
        """What the client sent that the operation does not accept (a list of sentences)."""
        found = []
        version = headers.get("x-github-api-version")
        if version not in API_VERSIONS:
            found.append(f"header X-GitHub-Api-Version: {version!r}, not one of {API_VERSIONS}")
        accept = (headers.get("accept") or "").split(",")[0].split(";")[0].strip()
        if accept and not _MEDIA_TYPE.match(accept):
            found.append(f"header Accept: {accept!r} is not a GitHub media type")
        for index, parameter in enumerate(operation.parameters):
            where, name = parameter.get("in"), parameter.get("name")
            if where == "path":
                value, present = path_values.get(name), name in path_values
            elif where == "query":
                present = name in query
                value = query[name][0] if present else None
            else:
                continue
            if not present:
                if parameter.get("required"):
                    found.append(f"{where} parameter {name}: missing")
                continue
            schema_pointer = self._parameter_schema_pointer(operation, index)
            gap = DESCRIPTION_GAPS.get(name) if where == "query" else None
            if gap is not None:
                if not gap.match(str(value)):
                    found.append(f"{where} parameter {name}: {value!r} is not GitHub's date search syntax")
                continue
            if schema_pointer:
                coerced = _coerce(value, self.deref(parameter.get("schema") or {}))
                found += self.problems(schema_pointer, "request", coerced, f"{where} parameter {name}")
        known = {p.get("name") for p in operation.parameters if p.get("in") == "query"}
        found += [f"query parameter {name}: not a parameter of this operation" for name in query if name not in known]
        found += self._check_body(operation, headers, body)
        return found

    def _parameter_schema_pointer(self, operation, index):
        raw = (operation.spec.get("parameters") or [])[index]
        base = raw["$ref"].lstrip("#") if "$ref" in raw else f"{operation.pointer}/parameters/{index}"
        return f"{base}/schema" if "schema" in self.deref(raw) else None

    def _check_body(self, operation, headers, body):
        request_body = operation.spec.get("requestBody")
        if request_body is None:
            return [f"request body: this operation takes none ({len(body)} bytes sent)"] if body else []
        spec = self.deref(request_body)
        if not body:
            return ["request body: missing"] if spec.get("required") else []
        media = (headers.get("content-type") or "").split(";")[0].strip()
        content = spec.get("content") or {}
        if media not in content:
            return [f"request Content-Type: {media!r}, expected one of {sorted(content)}"]
        if "json" not in media:
            return []
        try:
            data = json.loads(body)
        except ValueError:
            return ["request body: not JSON"]
        base = request_body["$ref"].lstrip("#") if "$ref" in request_body else f"{operation.pointer}/requestBody"
        return self.problems(f"{base}/content/{_escape(media)}/schema", "request", data, "request body")

    # -- responses ---------------------------------------------------------
    def check_response(self, operation, status, headers, body):
        """What the fake answered that the operation does not document (a list of sentences)."""
        responses = operation.spec.get("responses") or {}
        key = str(status) if str(status) in responses else "default" if "default" in responses else None
        lowered = {str(k).lower(): v for k, v in (headers or {}).items()}
        if key is None:
            generic = GENERIC_STATUSES | (GENERIC_WRITE_STATUSES if operation.method != "GET" else frozenset())
            if status not in generic:
                return [f"status {status}: not documented for this operation (documented: {sorted(responses)})"]
            if status >= 500 or not isinstance(body, dict):
                return []
            schema = "#/components/schemas/validation-error" if status == 422 else _BASIC_ERROR
            return self.problems(schema.lstrip("#"), "response", body, f"{status} body")
        pointer = f"{operation.pointer}/responses/{key}"
        spec = responses[key]
        if "$ref" in spec:
            pointer, spec = spec["$ref"].lstrip("#"), self.deref(spec)
        found = []
        if 300 <= status < 400 and not lowered.get("location"):
            found.append(f"status {status}: no Location header")
        content = spec.get("content") or {}
        if not content:
            if body not in (None, b"", "", {}):
                found.append(f"status {status}: a body where the operation documents none")
            return found
        media = str(lowered.get("content-type") or ("application/json" if isinstance(body, dict | list) else ""))
        media = media.split(";", maxsplit=1)[0].strip()
        if media not in content:
            return [*found, f"status {status}: Content-Type {media!r}, documented {sorted(content)}"]
        schema = (content[media] or {}).get("schema")
        if schema is None or "json" not in media:
            return found
        return found + self.problems(f"{pointer}/content/{_escape(media)}/schema", "response", body, f"{status} body")


def _nullable_enums(kind):
    """GitHub's OpenAPI 3.0 as GitHub writes it, read by ``kind``.

    ``nullable: true`` admits null also where an ``enum`` does not list it; a
    ``discriminator`` is a hint for code generators (GitHub maps ``array`` to a
    directory listing, which no object property can discriminate): the
    ``oneOf`` beside it decides.
    """
    base = kind.VALIDATORS["enum"]

    def enum(validator, enums, instance, schema):
        if instance is None and schema.get("nullable"):
            return
        yield from base(validator, enums, instance, schema)

    def discriminator(validator, value, instance, schema):
        return iter(())

    plain = validators.Draft4Validator.VALIDATORS

    def one_of(validator, alternatives, instance, schema):
        yield from plain["oneOf"](validator, alternatives, instance, schema)

    def any_of(validator, alternatives, instance, schema):
        yield from plain["anyOf"](validator, alternatives, instance, schema)

    return validators.extend(kind, {"enum": enum, "discriminator": discriminator, "oneOf": one_of, "anyOf": any_of})


def _deepest(error):
    """For a ``oneOf``/``anyOf`` that nothing matched, the most telling error of its alternatives."""
    while error.context:
        error = best_match(error.context)
    return error


def _coerce(value, schema):
    kind = schema.get("type")
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
        if kind == "boolean":
            return {"true": True, "false": False}.get(str(value).lower(), value)
    except (TypeError, ValueError):
        return value
    return value


def _path(parts):
    text = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)
    return text


def _short(message):
    """A validation message without the whole instance it quotes first (the end says what is wrong)."""
    return message if len(message) < 300 else "..." + message[-200:]


# --------------------------------------------------------------------------
# a fake's hook
# --------------------------------------------------------------------------


def check_exchange(request, response):
    """Validate one request a GitHub fake received and its answer; record the violations, return the operation."""
    try:
        spec = description()
    except ContractViolation:
        return None
    operation, values = spec.match(request.method, request.path)
    if operation is None:
        LOG.violation(f"{request.method} {request.path}", f"no operation of GitHub's {spec.name} description")
        return None
    where = f"{operation.operation_id} ({request.method} {operation.template})"
    for problem in spec.check_request(operation, values, request.query, request.headers, request.body):
        LOG.violation(where, problem)
    if getattr(response, "off_contract", False):
        return operation  # a deliberately broken answer: what the client does with it is the test
    for problem in spec.check_response(operation, response.status, response.headers, response.body):
        LOG.violation(where, f"answer {problem}")
    with LOG._lock:
        LOG.operations[operation.operation_id] += 1
        LOG.responses += 1
    return operation


# --------------------------------------------------------------------------
# webhook payloads
# --------------------------------------------------------------------------


@functools.cache
def _webhook_schemas():
    folder = npm_contracts.package_dir("@octokit/webhooks-schemas")
    if folder is None:
        return None
    document = json.loads((folder / "schema.json").read_text(encoding="utf-8"))
    return document, Draft7Validator, {}


def webhook_definition(event, payload):
    """The name of the schema of ``event`` with this payload's action (``workflow_run$completed``, ``push$event``)."""
    loaded = _webhook_schemas()
    if loaded is None:
        return None
    definitions = loaded[0]["definitions"]
    action = payload.get("action") if isinstance(payload, dict) else None
    for name in (f"{event}${action}", f"{event}$event"):
        if name in definitions:
            return name
    return None


def check_webhook(event, payload):
    """Raise :class:`ContractViolation` naming the field when ``payload`` is not a valid ``event`` delivery."""
    loaded = _webhook_schemas()
    if loaded is None:
        return payload
    document, kind, validators = loaded
    name = webhook_definition(event, payload)
    if name is None:
        raise ContractViolation(f"webhook {event} (action {payload.get('action')!r}): no schema in the published set")
    validator = validators.get(name)
    if validator is None:
        schema = {"$ref": f"#/definitions/{name}", "definitions": document["definitions"]}
        validator = validators[name] = kind(schema, format_checker=FormatChecker())
    errors = sorted(validator.iter_errors(payload), key=lambda e: list(e.absolute_path))
    with LOG._lock:
        LOG.webhooks[name] += 1
    if errors:
        fields = "; ".join(f"{_path(e.absolute_path) or '.'}: {_short(e.message)}" for e in errors[:5])
        raise ContractViolation(f"webhook {name}: {fields}")
    return payload


# --------------------------------------------------------------------------
# OSV records
# --------------------------------------------------------------------------


@functools.cache
def _osv_validators():
    """``(record, reference)`` validators from OSV's published schema, or None where it is not unpacked.

    A full record (``/v1/vulns/{id}``) is held to the whole schema; a ``/v1/querybatch`` result lists each
    vulnerability by ``id`` and ``modified`` only, held to those two properties of the same schema.
    """
    schema_file = pypi_contracts.path("osv-schema")
    if not schema_file.is_file():
        return None
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    kind = validators.validator_for(schema)
    reference = {**schema, "required": ["id", "modified"]}
    reference["properties"] = {key: schema["properties"][key] for key in ("id", "modified")}
    reference["additionalProperties"] = False
    checker = FormatChecker()
    return kind(schema, format_checker=checker), kind(reference, format_checker=checker)


def check_osv_answer(request, response):
    """Record a violation when an OSV fake's answer holds a record the published OSV schema refuses."""
    loaded = _osv_validators()
    if loaded is None or response.status != 200 or getattr(response, "off_contract", False):
        return
    record_validator, reference_validator = loaded
    body = response.body if isinstance(response.body, dict) else {}
    if request.path.startswith("/v1/vulns/"):
        checks = [(record_validator, body, "record")]
    else:
        checks = [
            (reference_validator, vuln, f"results[{index}].vulns[{position}]")
            for index, result in enumerate(body.get("results") or [])
            for position, vuln in enumerate(result.get("vulns") or [])
        ]
    for validator, instance, where in checks:
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        if errors:
            fields = "; ".join(f"{_path(e.absolute_path) or '.'}: {_short(e.message)}" for e in errors[:5])
            LOG.violation(f"OSV {request.method} {request.path} {where}", fields)
