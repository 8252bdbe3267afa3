"""License compliance from GitHub's dependency graph: which packages may we ship?

Decides a verdict per dependency — ``allowed``, ``review``, ``denied`` or
``unknown`` — from its SPDX license expression and an editable policy
(lists of SPDX ids):

- a single id takes the policy's verdict for it (``unknown`` if unlisted,
  ``NOASSERTION`` or missing);
- ``A OR B``: the licensee may choose, so the best option wins (one allowed
  option suffices);
- ``A AND B``: both apply, so the worst one wins;
- ``A WITH exception``: the policy may list the whole ``A WITH exception``,
  else ``A`` decides.

Verdicts rank allowed < review < unknown < denied. The SBOM comes from
``GET /repos/{owner}/{repo}/dependency-graph/sbom`` (SPDX 2.3 JSON;
``licenseConcluded`` is preferred over ``licenseDeclared``) or is a
CycloneDX JSON BOM (1.2 to 1.6: each component's licence ids, names or
expression).
:func:`summarize` gives the numbers and lists of the monthly report.
"""

import re
from dataclasses import dataclass, field
from urllib.parse import unquote

from ..common.errors import BadAnswer
from ..github.rest_api import github_call

VERDICTS = ("allowed", "review", "unknown", "denied")
_RANK = {verdict: rank for rank, verdict in enumerate(VERDICTS)}
_NO_LICENSE = {"", "NOASSERTION", "NONE"}
_TOKEN_RE = re.compile(r"\s*(\(|\)|[A-Za-z0-9.\-+:]+)")
_DEPRECATED_GNU = re.compile(r"^(A?GPL|LGPL|GFDL)-\d\.\d$", re.IGNORECASE)
_PURL_ECOSYSTEMS = {"pypi": "PyPI", "npm": "npm", "githubactions": "GitHub Actions", "github": "GitHub Actions"}


class LicenseExpressionError(ValueError):
    """Not a valid SPDX license expression."""


# --------------------------------------------------------------------------
# SPDX expressions
# --------------------------------------------------------------------------


def tokenize(expression):
    tokens, position = [], 0
    text = str(expression or "")
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN_RE.match(text, position)
        if not match:
            raise LicenseExpressionError(f"unexpected character at {position}: {text[position : position + 10]!r}")
        tokens.append(match.group(1))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens):
        self.tokens, self.position = tokens, 0

    def peek(self):
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self):
        token = self.peek()
        if token is None:
            raise LicenseExpressionError("expression ends too early")
        self.position += 1
        return token

    def expression(self):
        node = self.conjunction()
        options = [node]
        while (self.peek() or "").upper() == "OR":
            self.take()
            options.append(self.conjunction())
        return options[0] if len(options) == 1 else ("or", tuple(options))

    def conjunction(self):
        parts = [self.exception()]
        while (self.peek() or "").upper() == "AND":
            self.take()
            parts.append(self.exception())
        return parts[0] if len(parts) == 1 else ("and", tuple(parts))

    def exception(self):
        node = self.atom()
        if (self.peek() or "").upper() == "WITH":
            self.take()
            if node[0] != "license":
                raise LicenseExpressionError("WITH must follow a license id")
            exception = self.take()
            if exception in ("(", ")") or exception.upper() in ("AND", "OR", "WITH"):
                raise LicenseExpressionError("WITH needs an exception id")
            return ("with", node[1], exception)
        return node

    def atom(self):
        token = self.take()
        if token == "(":
            node = self.expression()
            if self.take() != ")":
                raise LicenseExpressionError("missing closing parenthesis")
            return node
        if token == ")" or token.upper() in ("AND", "OR", "WITH"):
            raise LicenseExpressionError(f"unexpected {token!r}")
        return ("license", token)


def parse_expression(expression):
    """The expression as a tree of ``('license', id)``, ``('with', id, exc)``, ``('and'|'or', parts)``."""
    tokens = tokenize(expression)
    if not tokens:
        raise LicenseExpressionError("empty expression")
    parser = _Parser(tokens)
    tree = parser.expression()
    if parser.peek() is not None:
        raise LicenseExpressionError(f"unexpected {parser.peek()!r} after the expression")
    return tree


def canonical_id(license_id):
    """Case-folded id with ``+`` and deprecated GNU ids mapped (``GPL-2.0+`` → ``gpl-2.0-or-later``)."""
    text = re.sub(r"\s+with\s+", " WITH ", license_id.strip(), flags=re.IGNORECASE)
    if text.endswith("+"):
        text = text[:-1] + "-or-later"
    elif _DEPRECATED_GNU.match(text):
        text += "-only"
    return text.lower()


# --------------------------------------------------------------------------
# policy
# --------------------------------------------------------------------------


def parse_id_list(text):
    """SPDX ids from an editable text field (commas, spaces or new lines between them; ``A WITH B`` kept whole)."""
    ids = []
    for raw in re.split(r"[,;\n]+", str(text or "")):
        line = raw.split("#", 1)[0]
        for match in re.finditer(r"(\S+\s+WITH\s+\S+|\S+)", line, re.IGNORECASE):
            ids.append(re.sub(r"\s+", " ", match.group(1)))
    return tuple(ids)


@dataclass(frozen=True)
class LicensePolicy:
    allowed: frozenset = field(default_factory=frozenset)
    review: frozenset = field(default_factory=frozenset)
    denied: frozenset = field(default_factory=frozenset)

    @classmethod
    def from_lists(cls, allowed=(), review=(), denied=()):
        """Build a policy; an id listed twice is an error (the person editing it must choose)."""
        sets = [frozenset(canonical_id(i) for i in ids) for ids in (allowed, review, denied)]
        overlap = (sets[0] & sets[1]) | (sets[0] & sets[2]) | (sets[1] & sets[2])
        if overlap:
            raise ValueError(f"licenses listed under two verdicts: {', '.join(sorted(overlap))}")
        return cls(*sets)

    @classmethod
    def from_text(cls, allowed="", review="", denied=""):
        return cls.from_lists(parse_id_list(allowed), parse_id_list(review), parse_id_list(denied))

    def lookup(self, license_id):
        key = canonical_id(license_id)
        if key in self.denied:
            return "denied"
        if key in self.allowed:
            return "allowed"
        if key in self.review:
            return "review"
        return "unknown"


#: a starting point for an LGPL-3 Odoo addon; editable in the settings
DEFAULT_POLICY = LicensePolicy.from_lists(
    allowed=(
        "MIT",
        "MIT-0",
        "BSD-2-Clause",
        "BSD-3-Clause",
        "Apache-2.0",
        "ISC",
        "PSF-2.0",
        "Python-2.0",
        "0BSD",
        "Unlicense",
        "CC0-1.0",
        "Zlib",
        "LGPL-2.1-or-later",
        "LGPL-3.0-only",
        "LGPL-3.0-or-later",
        "HPND",
        "BlueOak-1.0.0",
    ),
    review=(
        "MPL-2.0",
        "LGPL-2.1-only",
        "EPL-2.0",
        "CC-BY-4.0",
        "GPL-2.0-only",
        "GPL-2.0-or-later",
        "GPL-3.0-only",
        "GPL-3.0-or-later",
        "Artistic-2.0",
    ),
    denied=("AGPL-3.0-only", "AGPL-3.0-or-later", "SSPL-1.0", "BUSL-1.1", "CC-BY-NC-4.0", "Commons-Clause"),
)


def _worst(verdicts):
    return max(verdicts, key=_RANK.__getitem__)


def _best(verdicts):
    return min(verdicts, key=_RANK.__getitem__)


def _verdict(node, policy):
    kind = node[0]
    if kind == "license":
        return "unknown" if node[1].upper() in _NO_LICENSE else policy.lookup(node[1])
    if kind == "with":
        combined = policy.lookup(f"{node[1]} WITH {node[2]}")
        return combined if combined != "unknown" else policy.lookup(node[1])
    verdicts = [_verdict(part, policy) for part in node[1]]
    return _worst(verdicts) if kind == "and" else _best(verdicts)


def evaluate(expression, policy=DEFAULT_POLICY):
    """``(verdict, reason)`` for one SPDX expression under ``policy``."""
    text = str(expression or "").strip()
    if text.upper() in _NO_LICENSE:
        return "unknown", "no license information"
    try:
        tree = parse_expression(text)
    except LicenseExpressionError as exc:
        return "unknown", f"unparseable license expression: {exc}"
    verdict = _verdict(tree, policy)
    deciding = [name for name in _leaves(tree) if _verdict(_leaf(name), policy) == verdict]
    return verdict, f"{verdict}: {', '.join(deciding) or text}"


def _leaves(node):
    if node[0] == "license":
        return [node[1]]
    if node[0] == "with":
        return [f"{node[1]} WITH {node[2]}"]
    return [name for part in node[1] for name in _leaves(part)]


def _leaf(name):
    license_id, _, exception = name.partition(" WITH ")
    return ("with", license_id, exception) if exception else ("license", license_id)


# --------------------------------------------------------------------------
# SBOM
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class SbomPackage:
    name: str
    version: str
    ecosystem: str
    license: str
    purl: str = ""
    spdx_id: str = ""


def fetch_sbom(client, full_name):
    """The raw SPDX document GitHub builds from the dependency graph."""
    path = f"/repos/{full_name}/dependency-graph/sbom"
    _headers, data = github_call("GitHub", client.requester.requestJsonAndCheck, "GET", path)
    return data


def from_purl(purl):
    """``(ecosystem, name, version)`` from ``pkg:type/namespace/name@version``."""
    match = re.match(r"^pkg:(?P<type>[A-Za-z0-9.+-]+)/(?P<path>[^@?#]+)(?:@(?P<version>[^?#]+))?", purl or "")
    if not match:
        return "", "", ""
    kind = match.group("type").lower()
    name = unquote(match.group("path"))
    return _PURL_ECOSYSTEMS.get(kind, kind), name, unquote(match.group("version") or "")


def _license_of(package):
    for key in ("licenseConcluded", "licenseDeclared"):
        value = package.get(key)
        if isinstance(value, str) and value.strip() and value.strip().upper() not in _NO_LICENSE:
            return value.strip()
    return "NOASSERTION"


def parse_sbom(data):
    """Dependency packages of a GitHub SBOM answer (``{"sbom": {...}}``), a bare SPDX 2.x document or a CycloneDX
    BOM."""
    if isinstance(data, dict) and data.get("bomFormat") == "CycloneDX":
        return parse_cyclonedx(data)
    document = data.get("sbom", data) if isinstance(data, dict) else None
    if not isinstance(document, dict):
        raise BadAnswer("GitHub SBOM", "answer is not an SPDX document")
    if not str(document.get("spdxVersion", "")).startswith("SPDX-2."):
        raise BadAnswer("GitHub SBOM", f"spdxVersion {str(document.get('spdxVersion'))[:20]!r} is not SPDX 2.x")
    packages = document.get("packages")
    if not isinstance(packages, list):
        raise BadAnswer("GitHub SBOM", "packages is not a list")
    described = set(document.get("documentDescribes") or [])
    for relation in document.get("relationships") or []:
        if isinstance(relation, dict) and relation.get("relationshipType") == "DESCRIBES":
            described.add(relation.get("relatedSpdxElement"))
    result = []
    for index, package in enumerate(packages):
        if not isinstance(package, dict) or not isinstance(package.get("name"), str):
            raise BadAnswer("GitHub SBOM", f"packages[{index}] has no name")
        if package.get("SPDXID") in described:
            continue  # the repository itself
        purl = next(
            (
                ref.get("referenceLocator")
                for ref in package.get("externalRefs") or []
                if isinstance(ref, dict) and ref.get("referenceType") == "purl"
            ),
            "",
        )
        ecosystem, name, version = from_purl(purl)
        if not name:
            ecosystem, _, name = package["name"].rpartition(":")
        result.append(
            SbomPackage(
                name=name,
                version=str(package.get("versionInfo") or version or ""),
                ecosystem=ecosystem,
                license=_license_of(package),
                purl=str(purl or ""),
                spdx_id=str(package.get("SPDXID") or ""),
            )
        )
    return result


def cyclonedx_components(data, service="CycloneDX"):
    """``(path, component)`` of every component of a CycloneDX BOM, nested ones included (the BOM's own subject not)."""
    found, stack = [], [("$.components", data.get("components"))]
    while stack:
        path, components = stack.pop(0)
        if components is None:
            continue
        if not isinstance(components, list):
            raise BadAnswer(service, f"{path} is not a list")
        for index, component in enumerate(components):
            where = f"{path}[{index}]"
            if not isinstance(component, dict) or not isinstance(component.get("name"), str):
                raise BadAnswer(service, f"{where} has no name")
            found.append((where, component))
            stack.append((f"{where}.components", component.get("components")))
    return found


def _cyclonedx_license(component):
    """One SPDX expression for a component's ``licenses`` (ids and expressions; a bare name is no SPDX id)."""
    parts = []
    for choice in component.get("licenses") or []:
        if not isinstance(choice, dict):
            continue
        if isinstance(choice.get("expression"), str) and choice["expression"].strip():
            parts.append(choice["expression"].strip())
            continue
        license_ = choice.get("license") if isinstance(choice.get("license"), dict) else {}
        if isinstance(license_.get("id"), str) and license_["id"].strip():
            parts.append(license_["id"].strip())
        else:
            return "NOASSERTION"  # a licence known only by name: a person must look
    if not parts:
        return "NOASSERTION"
    # several entries all apply (CycloneDX lists the licences of the component, not options)
    return parts[0] if len(parts) == 1 else " AND ".join(f"({part})" if " " in part else part for part in parts)


def parse_cyclonedx(data):
    """Packages of a CycloneDX JSON BOM (``bomFormat: CycloneDX``), with their licences."""
    if not str(data.get("specVersion") or "").startswith("1."):
        raise BadAnswer("CycloneDX", f"specVersion {str(data.get('specVersion'))[:20]!r} is not CycloneDX 1.x")
    result = []
    for _path, component in cyclonedx_components(data):
        purl = str(component.get("purl") or "")
        ecosystem, name, version = from_purl(purl)
        if ecosystem != "npm" or not name:  # npm: the purl's name carries the scope; others: the name as written
            group = str(component.get("group") or "")
            name = f"{group}/{component['name']}" if group.startswith("@") else component["name"]
        result.append(
            SbomPackage(
                name=name,
                version=str(component.get("version") or version or ""),
                ecosystem=ecosystem,
                license=_cyclonedx_license(component),
                purl=purl,
                spdx_id=str(component.get("bom-ref") or ""),
            )
        )
    return result


@dataclass(frozen=True)
class PackageVerdict:
    package: SbomPackage
    verdict: str
    reason: str


def check_packages(packages, policy=DEFAULT_POLICY):
    return [PackageVerdict(p, *evaluate(p.license, policy)) for p in packages]


@dataclass(frozen=True)
class LicenseSummary:
    total: int
    counts: dict
    #: license expression -> number of packages
    by_license: dict
    denied: tuple
    review: tuple
    unknown: tuple


def summarize(verdicts):
    """Counts and the lists a monthly report shows (denied and review packages by name)."""
    counts = dict.fromkeys(VERDICTS, 0)
    by_license, lists = {}, {"denied": [], "review": [], "unknown": []}
    for item in verdicts:
        counts[item.verdict] += 1
        by_license[item.package.license] = by_license.get(item.package.license, 0) + 1
        if item.verdict in lists:
            lists[item.verdict].append(item)
    order = dict(sorted(by_license.items(), key=lambda kv: (-kv[1], kv[0])))
    key = lambda v: (v.package.ecosystem, v.package.name)  # noqa: E731 - a sort key
    return LicenseSummary(
        len(verdicts),
        counts,
        order,
        tuple(sorted(lists["denied"], key=key)),
        tuple(sorted(lists["review"], key=key)),
        tuple(sorted(lists["unknown"], key=key)),
    )


def summary_markdown(summary, title="License compliance"):
    """A short Markdown section for the monthly report."""
    lines = [f"### {title}", ""]
    lines.append(" · ".join(f"{summary.counts[v]} {v}" for v in VERDICTS) + f" (of {summary.total} packages)")
    for verdict in ("denied", "review"):
        items = getattr(summary, verdict)
        if items:
            lines += ["", f"**{verdict.capitalize()}**:", ""]
            lines += [
                f"- {i.package.ecosystem} `{i.package.name}` {i.package.version}: {i.package.license}" for i in items
            ]
    return "\n".join(lines)
