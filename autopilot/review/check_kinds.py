"""The check kinds: what each kind of architecture rule looks for in an addon.

A rule of a pack (:mod:`.rule_packs`) names its kind; the kind is a function
registered here with :func:`check_kind` that takes the rule (its severity and
``params``) and one touched addon (:class:`~.addons.AddonView`) and yields
:class:`CheckFinding` items. Kinds exist for the manifest and the addon's
files, models and their access rules, the OCA module structure, XML, risky
Python, and a few declarative ones (``forbidden_regex``, ``manifest_depends``,
``csv_columns``...) that team packs combine without writing Python.

Findings on existing code are avoided: line-level kinds look only at the
lines the PR adds.
"""

import ast
import csv
import fnmatch
import io
import posixpath
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from lxml import etree

from .addons import AddonView, parse_manifest

if TYPE_CHECKING:
    from .rule_packs import Rule

DEFAULT_SERIES = "18.0"


@dataclass(frozen=True)
class CheckFinding:
    """What a rule found: its id and severity, where, and a message for the author."""

    rule: str
    severity: str
    path: str
    line: int  # 0: the whole file or addon
    message: str


#: ``kind name -> check(rule, addon)``: yields the :class:`CheckFinding` items of ``rule`` on ``addon``
CHECK_KINDS: dict[str, Callable[["Rule", AddonView], Iterable[CheckFinding]]] = {}
_PARAM_VALIDATORS: dict[str, Callable[[Mapping], str]] = {}


def check_kind(name, validate=None):
    """Register a check function under ``name`` (optionally with a validator of its params)."""

    def register(func):
        CHECK_KINDS[name] = func
        if validate:
            _PARAM_VALIDATORS[name] = validate
        return func

    return register


def params_problem(kind, params):
    """Why ``params`` do not suit the check kind ``kind`` ("" when they do, or when it takes any)."""
    validator = _PARAM_VALIDATORS.get(kind)
    return validator(params) if validator else ""


def is_str_list(value):
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _needs(**types):
    """A params validator: each named param, when given, has the given type (``list`` = list of str)."""

    def validate(params):
        unknown = set(params) - set(types)
        if unknown:
            return f"unknown params {sorted(unknown)}"
        for key, kind in types.items():
            if key not in params:
                continue
            value = params[key]
            if kind is list and not is_str_list(value):
                return f"param {key!r} must be a list of strings"
            if kind is str and not isinstance(value, str):
                return f"param {key!r} must be a string"
        if "regex" in params:
            try:
                re.compile(params["regex"])
            except re.error as exc:
                return f"bad regex: {exc}"
        return ""

    return validate


# -- files and manifest --------------------------------------------------------


@check_kind("required_files", _needs(files=list, any_of=list))
def _check_required_files(rule, addon):
    """Each of ``files`` exists in the addon; with ``any_of``, at least one of them does."""
    where = addon.where
    for relative in rule.params.get("files", ()):
        if not addon.source.exists(addon.path(relative)):
            yield rule.finding(where, 0, f"addon {addon.name or where} has no {relative}")
    any_of = rule.params.get("any_of", ())
    if any_of and not any(addon.source.exists(addon.path(r)) for r in any_of):
        yield rule.finding(where, 0, f"addon {addon.name or where} has none of {', '.join(any_of)}")


@check_kind("manifest_syntax")
def _check_manifest_syntax(rule, addon):
    if addon.manifest_error:
        yield rule.finding(addon.manifest_path, 0, f"manifest cannot be read: {addon.manifest_error}")


@check_kind("manifest_keys", _needs(keys=list))
def _check_manifest_keys(rule, addon):
    if addon.manifest is None:
        return
    missing = [key for key in rule.params.get("keys", ()) if key not in addon.manifest]
    if missing:
        yield rule.finding(addon.manifest_path, 0, f"manifest lacks {', '.join(missing)}")


_MANIFEST_TYPES = {
    "name": str,
    "version": str,
    "license": str,
    "summary": str,
    "description": str,
    "author": str,
    "website": str,
    "category": str,
    "maintainers": list,
    "depends": list,
    "data": list,
    "demo": list,
    "installable": bool,
    "application": bool,
    "external_dependencies": dict,
    "assets": dict,
    "countries": list,
}


@check_kind("manifest_types")
def _check_manifest_types(rule, addon):
    if addon.manifest is None:
        return
    for key, expected in _MANIFEST_TYPES.items():
        if key not in addon.manifest:
            continue
        value = addon.manifest[key]
        wrong = not isinstance(value, expected) or (
            expected is list and not all(isinstance(item, str) for item in value)
        )
        if wrong:
            what = "a list of strings" if expected is list else expected.__name__
            line = addon.manifest_line(f"'{key}'") or addon.manifest_line(f'"{key}"')
            yield rule.finding(addon.manifest_path, line, f"manifest key {key!r} must be {what}")
    external = addon.manifest.get("external_dependencies")
    if isinstance(external, dict):
        for key, value in external.items():
            if not is_str_list(value):
                yield rule.finding(addon.manifest_path, 0, f"external_dependencies[{key!r}] must be a list of strings")


@check_kind("manifest_version", _needs(series=str))
def _check_manifest_version(rule, addon):
    if addon.manifest is None or "version" not in addon.manifest:
        return
    series = rule.params.get("series", DEFAULT_SERIES)
    version = addon.manifest["version"]
    pattern = re.escape(series) + r"\.\d+\.\d+\.\d+"
    if not isinstance(version, str) or not re.fullmatch(pattern, version):
        line = addon.manifest_line("version")
        yield rule.finding(addon.manifest_path, line, f"version {version!r} is not {series}.x.y.z")


ODOO_LICENSES = (
    "GPL-2",
    "GPL-2 or any later version",
    "GPL-3",
    "GPL-3 or any later version",
    "AGPL-3",
    "LGPL-3",
    "Other OSI approved licence",
    "OEEL-1",
    "OPL-1",
    "Other proprietary",
)


@check_kind("manifest_license", _needs(allowed=list))
def _check_manifest_license(rule, addon):
    if addon.manifest is None or "license" not in addon.manifest:
        return
    allowed = rule.params.get("allowed") or ODOO_LICENSES
    license_name = addon.manifest["license"]
    if license_name not in allowed:
        line = addon.manifest_line("license")
        yield rule.finding(addon.manifest_path, line, f"license {license_name!r} is not one of {', '.join(allowed)}")


@check_kind("manifest_files_exist", _needs(keys=list))
def _check_manifest_files_exist(rule, addon):
    """Every file listed under the manifest's ``data``/``demo`` keys exists at head."""
    if addon.manifest is None:
        return
    for key in rule.params.get("keys", ("data", "demo")):
        for relative in addon.manifest_list(key):
            if "*" in relative:
                continue
            if not addon.source.exists(addon.path(relative)):
                line = addon.manifest_line(relative)
                yield rule.finding(addon.manifest_path, line, f"{key} file {relative} does not exist")


@check_kind("manifest_version_bump", _needs(watch=list))
def _check_version_bump(rule, addon):
    """When the addon's code or data changed, its version changed too (needs the base ref)."""
    if addon.manifest is None or not addon.source.base_ref:
        return
    watch = rule.params.get("watch", ("models/", "data/", "security/", "views/", "migrations/"))
    if not any(addon.rel(f.path).startswith(tuple(watch)) for f in addon.changed(include_removed=True)):
        return
    base_text = addon.source.text_at(addon.manifest_path, base=True)
    if base_text is None:
        return  # a new addon
    base_manifest, _error = parse_manifest(base_text)
    if base_manifest and base_manifest.get("version") == addon.manifest.get("version"):
        line = addon.manifest_line("version")
        version = addon.manifest.get("version")
        yield rule.finding(addon.manifest_path, line, f"code or data changed but the version stays {version}")


# -- models and access rules -----------------------------------------------------

_MODEL_BASES = {"Model": "model", "TransientModel": "transient", "AbstractModel": "abstract"}


@dataclass(frozen=True)
class ModelClass:
    name: str  # the _name, "" for a pure extension
    inherits: tuple
    kind: str  # model, transient, abstract
    line: int  # line of the _name assignment (or the class)
    class_line: int


def _literal_names(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (node.value,)
    if isinstance(node, ast.List | ast.Tuple):
        return tuple(e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str))
    return ()


def model_classes(tree):
    """Odoo model classes of a module: their ``_name``, ``_inherit`` and kind."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ClassDef):
            continue
        kind = ""
        for base in node.bases:
            base_name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
            kind = kind or _MODEL_BASES.get(base_name, "")
        if not kind:
            continue
        name, inherits, line = "", (), node.lineno
        for statement in node.body:
            if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
                target = statement.targets[0]
                if isinstance(target, ast.Name) and target.id == "_name":
                    names = _literal_names(statement.value)
                    name, line = (names[0] if names else ""), statement.lineno
                elif isinstance(target, ast.Name) and target.id == "_inherit":
                    inherits = _literal_names(statement.value)
        found.append(ModelClass(name, inherits, kind, line, node.lineno))
    return found


def _parse_python(text):
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None


def new_models(changed, source):
    """Models whose ``_name`` line the change adds, and that are not extensions of themselves."""
    added = changed.added_lines()
    if not added:
        return []
    tree = _parse_python(source.text_at(changed.path) or "")
    if tree is None:
        return []
    return [
        model
        for model in model_classes(tree)
        if model.name and model.line in added and model.name not in model.inherits
    ]


def access_models(text):
    """``(model external ids, problems)`` of an ``ir.model.access.csv``."""
    models, problems = set(), []
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        return models, [(0, f"CSV cannot be read: {exc}")]
    if not rows:
        return models, [(1, "empty access file")]
    header = [cell.strip() for cell in rows[0]]
    expected = ["id", "name", "model_id:id", "group_id:id", "perm_read", "perm_write", "perm_create", "perm_unlink"]
    if header != expected:
        problems.append((1, f"header must be {','.join(expected)}"))
        if "model_id:id" not in header:
            return models, problems
    column = header.index("model_id:id")
    perm_columns = [header.index(c) for c in expected[4:] if c in header]
    for number, row in enumerate(rows[1:], 2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append((number, f"{len(row)} columns instead of {len(header)}"))
            continue
        models.add(row[column].strip().split(".")[-1])
        if any(row[i].strip() not in ("0", "1") for i in perm_columns):
            problems.append((number, "permissions must be 0 or 1"))
    return models, problems


@check_kind("model_access", _needs(csv=str))
def _check_model_access(rule, addon):
    """A model the PR adds (``_name = '...'``) has a line in ``security/ir.model.access.csv``."""
    csv_path = addon.path(rule.params.get("csv", "security/ir.model.access.csv"))
    declared = None
    for changed in addon.changed("*.py"):
        for model in new_models(changed, addon.source):
            if model.kind == "abstract":
                continue
            if declared is None:
                text = addon.source.text_at(csv_path)
                declared = access_models(text)[0] if text is not None else set()
            external_id = "model_" + model.name.replace(".", "_")
            if external_id not in declared:
                yield rule.finding(
                    changed.path, model.line, f"new model {model.name} has no access rule in {addon.rel(csv_path)}"
                )


@check_kind("access_csv_format")
def _check_access_csv(rule, addon):
    for changed in addon.changed("security/ir.model.access.csv"):
        text = addon.source.text_at(changed.path)
        if text is None:
            continue
        for line, problem in access_models(text)[1]:
            yield rule.finding(changed.path, line, problem)
    csv_path = "security/ir.model.access.csv"
    if (
        addon.manifest is not None
        and csv_path not in addon.manifest_list("data")
        and addon.source.exists(addon.path(csv_path))
    ):
        yield rule.finding(addon.manifest_path, 0, "security/ir.model.access.csv is not loaded by the manifest")


# -- OCA module structure --------------------------------------------------------


@check_kind("models_one_per_file")
def _check_one_model_per_file(rule, addon):
    for changed in addon.changed("models/*.py"):
        tree = _parse_python(addon.source.text_at(changed.path) or "")
        classes = model_classes(tree) if tree else []
        if len(classes) > 1 and any(c.class_line in changed.added_lines() for c in classes):
            names = ", ".join(c.name or "/".join(c.inherits) or "?" for c in classes)
            yield rule.finding(changed.path, classes[1].class_line, f"{len(classes)} models in one file ({names})")


@check_kind("models_file_name")
def _check_model_file_name(rule, addon):
    """A new model lives in ``models/<model_name_with_underscores>.py``."""
    for changed in addon.changed("models/*.py"):
        for model in new_models(changed, addon.source):
            expected = model.name.replace(".", "_") + ".py"
            if posixpath.basename(changed.path) != expected:
                yield rule.finding(changed.path, model.line, f"model {model.name} belongs in models/{expected}")


@check_kind("models_init_import")
def _check_models_imported(rule, addon):
    """A Python file added under ``models/`` (or ``wizard/``) is imported by that folder's ``__init__.py``."""
    for changed in addon.changed():
        relative = addon.rel(changed.path)
        folder, _sep, filename = relative.rpartition("/")
        if changed.status != "added" or folder not in ("models", "wizard", "wizards", "controllers"):
            continue
        if not filename.endswith(".py") or filename == "__init__.py":
            continue
        init = addon.source.text_at(addon.path(f"{folder}/__init__.py")) or ""
        module = filename[:-3]
        if not re.search(rf"^\s*from\s+\.\s+import\s+[^\n]*\b{re.escape(module)}\b", init, re.M):
            yield rule.finding(changed.path, 0, f"{folder}/__init__.py does not import {module}")


_VIEW_NAME = re.compile(r".+_(views|templates|menus?|actions|report|reports)\.xml$")


@check_kind("views_file_name", _needs(regex=str))
def _check_view_file_name(rule, addon):
    pattern = re.compile(rule.params["regex"]) if "regex" in rule.params else _VIEW_NAME
    for changed in addon.changed("views/*.xml"):
        if changed.status == "added" and not pattern.match(posixpath.basename(changed.path)):
            yield rule.finding(
                changed.path, 0, "view files are named <model>_views.xml, <name>_templates.xml or <addon>_menus.xml"
            )


# -- XML ---------------------------------------------------------------------------


def _xml_parser():
    # no entities, no network, no huge trees: the XML is untrusted
    return etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=False)


def parse_xml(text):
    """``(root, "")`` or ``(None, "line N: reason")``."""
    try:
        return etree.fromstring(text.encode("utf-8"), _xml_parser()), ""
    except etree.XMLSyntaxError as exc:
        return None, f"line {exc.lineno}: {exc.msg}"
    except ValueError as exc:
        return None, str(exc)


@check_kind("xml_syntax")
def _check_xml_syntax(rule, addon):
    for changed in addon.changed("*.xml"):
        text = addon.source.text_at(changed.path)
        if text is None:
            continue
        root, error = parse_xml(text)
        if root is None:
            match = re.match(r"line (\d+)", error)
            yield rule.finding(changed.path, int(match[1]) if match else 0, f"XML does not parse: {error}")


@check_kind("xml_duplicate_ids")
def _check_xml_duplicate_ids(rule, addon):
    for changed in addon.changed("*.xml"):
        root, _error = parse_xml(addon.source.text_at(changed.path) or "")
        if root is None:
            continue
        seen = {}
        for element in root.iter("record", "template", "menuitem", "act_window", "report"):
            xml_id = element.get("id")
            if not xml_id:
                continue
            if xml_id in seen:
                message = f"id {xml_id} already used on line {seen[xml_id]}"
                yield rule.finding(changed.path, element.sourceline or 0, message)
            else:
                seen[xml_id] = element.sourceline or 0


@check_kind("xml_deprecated", _needs(attributes=list, elements=list, fields=list))
def _check_xml_deprecated(rule, addon):
    """Odoo 18 removals on lines the PR adds: ``attrs``/``states`` attributes, ``<tree>``, cron fields."""
    attributes = rule.params.get("attributes", ("attrs", "states"))
    elements = rule.params.get("elements", ("tree",))
    fields = rule.params.get("fields", ("numbercall", "doall"))
    for changed in addon.changed("*.xml"):
        added = changed.added_lines()
        root, _error = parse_xml(addon.source.text_at(changed.path) or "") if added else (None, "")
        if root is None:
            continue
        for element in root.iter():
            if not isinstance(element.tag, str) or element.sourceline not in added:
                continue
            if element.tag in elements:
                yield rule.finding(changed.path, element.sourceline, f"<{element.tag}> is removed in Odoo 18")
            for attribute in attributes:
                if attribute in element.attrib and element.tag not in ("record", "template", "menuitem"):
                    yield rule.finding(
                        changed.path, element.sourceline, f"attribute {attribute}= is removed since Odoo 17"
                    )
            if element.tag == "field" and element.get("name") in fields:
                in_cron = element.getparent() is not None and element.getparent().get("model") == "ir.cron"
                if in_cron:
                    yield rule.finding(
                        changed.path, element.sourceline, f"ir.cron has no {element.get('name')} field in Odoo 18"
                    )


# -- Python ----------------------------------------------------------------------


@check_kind("python_syntax")
def _check_python_syntax(rule, addon):
    for changed in addon.changed("*.py"):
        text = addon.source.text_at(changed.path)
        if text is None:
            continue
        try:
            ast.parse(text)
        except SyntaxError as exc:
            yield rule.finding(changed.path, exc.lineno or 0, f"Python does not parse: {exc.msg}")
        except (ValueError, MemoryError, RecursionError) as exc:
            yield rule.finding(changed.path, 0, f"Python does not parse: {type(exc).__name__}")


def _added_nodes(addon, changed):
    """``(tree, added lines, text)`` of a changed Python file, or ``None``."""
    added = changed.added_lines()
    if not added:
        return None
    text = addon.source.text_at(changed.path) or ""
    tree = _parse_python(text)
    return (tree, added, text) if tree else None


def _suppressed(text, line, code):
    """``# noqa`` or ``pylint: disable=<code>`` on the line, or a module-level ``# pylint: disable=<code>``."""
    lines = text.splitlines()
    source_line = lines[line - 1] if 0 < line <= len(lines) else ""
    if "noqa" in source_line or re.search(rf"pylint:\s*disable=[\w,-]*\b{re.escape(code)}\b", source_line):
        return True
    return bool(re.search(rf"^#\s*pylint:\s*disable=[\w,-]*\b{re.escape(code)}\b", text, re.M))


@check_kind("python_forbidden_calls", _needs(calls=list, skip=list))
def _check_forbidden_calls(rule, addon):
    """Calls such as ``print()`` on added lines (``# noqa`` / ``pylint: disable=print-used`` excuse them)."""
    calls = set(rule.params.get("calls", ("print",)))
    skip = tuple(rule.params.get("skip", ()))
    for changed in addon.changed("*.py"):
        if skip and addon.rel(changed.path).startswith(skip):
            continue
        parsed = _added_nodes(addon, changed)
        if not parsed:
            continue
        tree, added, text = parsed
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in calls
                and node.lineno in added
                and not _suppressed(text, node.lineno, f"{node.func.id}-used")
            ):
                yield rule.finding(changed.path, node.lineno, f"{node.func.id}() call; use the logger")


@check_kind("python_except_pass")
def _check_except_pass(rule, addon):
    for changed in addon.changed("*.py"):
        parsed = _added_nodes(addon, changed)
        if not parsed:
            continue
        tree, added, _text = parsed
        for node in ast.walk(tree):
            if not isinstance(node, ast.ExceptHandler) or node.lineno not in added:
                continue
            if node.type is None:
                yield rule.finding(changed.path, node.lineno, "bare except: catches SystemExit and KeyboardInterrupt")
            elif len(node.body) == 1 and isinstance(node.body[0], ast.Pass):
                yield rule.finding(changed.path, node.lineno, "exception silenced with pass; log it or handle it")


def _is_built_string(node):
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(v, ast.FormattedValue) for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        return True
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Constant)
    )


@check_kind("python_sql_injection")
def _check_sql_injection(rule, addon):
    """``cr.execute()`` with a query built by f-string, ``%`` or ``+`` on an added line."""
    for changed in addon.changed("*.py"):
        parsed = _added_nodes(addon, changed)
        if not parsed:
            continue
        tree, added, _text = parsed
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "execute"
                and node.args
                and _is_built_string(node.args[0])
                and node.lineno in added
            ):
                yield rule.finding(
                    changed.path, node.lineno, "SQL built from strings; pass parameters or use odoo.tools.SQL"
                )


# -- generic, declarative kinds for team packs ---------------------------------------


@check_kind("forbidden_regex", _needs(regex=str, globs=list, message=str))
def _check_forbidden_regex(rule, addon):
    """A regular expression that no added line may match, in files matching ``globs``."""
    pattern = re.compile(rule.params["regex"])
    globs = rule.params.get("globs", ("*",))
    message = rule.params.get("message", f"line matches {rule.params['regex']}")
    for changed in addon.changed():
        if not any(fnmatch.fnmatch(addon.rel(changed.path), g) for g in globs):
            continue
        for number, text in sorted(changed.added_lines().items()):
            if pattern.search(text):
                yield rule.finding(changed.path, number, message)


@check_kind("manifest_depends", _needs(any_of=list, all_of=list, unless_addon=list))
def _check_manifest_depends(rule, addon):
    if addon.manifest is None or addon.name in rule.params.get("unless_addon", ()):
        return
    depends = set(addon.manifest_list("depends"))
    any_of, all_of = rule.params.get("any_of", ()), rule.params.get("all_of", ())
    line = addon.manifest_line("depends")
    if any_of and not depends.intersection(any_of):
        yield rule.finding(addon.manifest_path, line, f"depends must include one of {', '.join(any_of)}")
    missing = [name for name in all_of if name not in depends]
    if missing:
        yield rule.finding(addon.manifest_path, line, f"depends lacks {', '.join(missing)}")


@check_kind("manifest_key_contains", _needs(key=str, value=str))
def _check_manifest_key_contains(rule, addon):
    if addon.manifest is None:
        return
    key, value = rule.params.get("key", ""), rule.params.get("value", "")
    current = addon.manifest.get(key)
    if not (current == value or (isinstance(current, list | tuple) and value in current)):
        yield rule.finding(addon.manifest_path, addon.manifest_line(key), f"manifest {key!r} should contain {value!r}")


@check_kind("addon_file_any", _needs(paths=list, manifest_data_globs=list, what=str))
def _check_addon_file_any(rule, addon):
    """At least one of ``paths`` exists, or a manifest data file matching ``manifest_data_globs`` exists."""
    if addon.manifest is None:
        return
    if any(addon.source.exists(addon.path(p)) for p in rule.params.get("paths", ())):
        return
    globs = rule.params.get("manifest_data_globs", ())
    for relative in addon.manifest_list("data"):
        if any(fnmatch.fnmatch(relative, g) for g in globs) and addon.source.exists(addon.path(relative)):
            return
    what = rule.params.get("what", "the required data")
    yield rule.finding(addon.where, 0, f"addon {addon.name} ships no {what}")


@check_kind("csv_columns", _needs(globs=list, columns=list))
def _check_csv_columns(rule, addon):
    """Changed CSV files matching ``globs`` have every column of ``columns`` in their header."""
    for changed in addon.changed("*.csv"):
        if not any(fnmatch.fnmatch(addon.rel(changed.path), g) for g in rule.params.get("globs", ("*",))):
            continue
        text = addon.source.text_at(changed.path) or ""
        try:
            header = next(csv.reader(io.StringIO(text)), [])
        except csv.Error:
            header = []
        missing = [c for c in rule.params.get("columns", ()) if c not in [h.strip() for h in header]]
        if missing:
            yield rule.finding(changed.path, 1, f"CSV header lacks {', '.join(missing)}")


@check_kind("conflict_markers")
def _check_conflict_markers(rule, addon):
    for changed in addon.changed():
        for number, text in sorted(changed.added_lines().items()):
            if re.match(r"(<{7}|>{7})( |$)|={7}$", text):
                yield rule.finding(changed.path, number, "merge conflict marker")
