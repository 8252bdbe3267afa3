"""Where the engine's data files live, and how they are read.

Everything the engine knows that is data rather than logic (the diagnosis
training corpus, scanner report samples, the seed failure rules, the builtin
review rule packs) lives under ``autopilot/data/``; code finds it through
:data:`DATA_DIR`, never through its own position in the tree.

Tables of entries (rules, rule packs) are TOML files. :func:`read_toml` reads
one and :func:`entries` walks its array of tables; every problem is one
:class:`DataFileError` that names the file, the entry and the field, e.g.
``rules/dependency_missing.toml: rule 'pip-resolution' (entry 12): field
'pattern': missing``. What a field must hold is checked by the code that
consumes the entry, through the small :class:`Entry` readers.
"""

from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python < 3.11
    import tomli as tomllib

DATA_DIR = Path(__file__).resolve().parent.parent / "data"

_REQUIRED = object()


class DataFileError(ValueError):
    """A data file that cannot be used: unreadable, not TOML, or an entry with a bad field."""

    def __init__(self, path, problem, entry="", field=""):
        self.path = display_path(path)
        self.entry = entry
        self.field = field
        self.problem = problem
        parts = (self.path, entry, f"field {field!r}" if field else "", problem)
        super().__init__(": ".join(part for part in parts if part))


def display_path(path):
    """``path`` relative to :data:`DATA_DIR` when it is below it (how errors name a file)."""
    path = Path(path)
    try:
        return path.resolve().relative_to(DATA_DIR).as_posix()
    except ValueError:
        return str(path)


def read_toml(path):
    """The document of the TOML file ``path`` (relative to :data:`DATA_DIR`, or absolute)."""
    path = DATA_DIR / path
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise DataFileError(path, f"cannot be read: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise DataFileError(path, "is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise DataFileError(path, f"is not valid TOML: {exc}") from None


def _type_name(value):
    return {str: "a string", bool: "true or false", int: "an integer", list: "a list", dict: "a table"}.get(
        type(value), type(value).__name__
    )


class Entry:
    """One table of a data file's array of tables, read field by field.

    ``kind`` names what the entry is (``rule``) and ``key`` the field that
    identifies it (``name``, ``id``): errors read ``<file>: rule 'x' (entry 3):
    field 'f': <problem>``, entries counted from 1.
    """

    def __init__(self, path, kind, number, data, key):
        self.path = path
        self.number = number
        self.data = data
        ident = data.get(key) if isinstance(data, dict) else None
        self.label = (
            f"{kind} {ident!r} (entry {number})" if isinstance(ident, str) and ident else f"{kind} (entry {number})"
        )

    def error(self, problem, field=""):
        return DataFileError(self.path, problem, self.label, field)

    def reject_unknown(self, allowed):
        unknown = sorted(set(self.data) - set(allowed))
        if unknown:
            raise self.error(f"unknown field {unknown[0]!r}; the fields are {', '.join(sorted(allowed))}")

    def _get(self, field, default):
        if field in self.data:
            return self.data[field]
        if default is _REQUIRED:
            raise self.error("missing", field)
        return default

    def text(self, field, default=_REQUIRED):
        """A non-empty string; a long one may be written as a list of pieces, joined as they are."""
        value = self._get(field, default)
        if field not in self.data:
            return value
        if isinstance(value, list) and value and all(isinstance(piece, str) for piece in value):
            value = "".join(value)
        if not isinstance(value, str):
            raise self.error(f"must be a string (or a list of strings), not {_type_name(value)}", field)
        if not value.strip():
            raise self.error("is empty", field)
        return value

    def integer(self, field, default=_REQUIRED):
        value = self._get(field, default)
        if field in self.data and (not isinstance(value, int) or isinstance(value, bool)):
            raise self.error(f"must be an integer, not {_type_name(value)}", field)
        return value

    def boolean(self, field, default=_REQUIRED):
        value = self._get(field, default)
        if field in self.data and not isinstance(value, bool):
            raise self.error(f"must be true or false, not {_type_name(value)}", field)
        return value

    def choice(self, field, choices, default=_REQUIRED):
        value = self._get(field, default)
        if field in self.data and value not in choices:
            raise self.error(f"{value!r} is not one of {', '.join(choices)}", field)
        return value


def entries(path, document, field, kind, key):
    """The :class:`Entry` items of the array of tables ``field`` (``[[field]]``), each ``key`` used once."""
    tables = document.get(field)
    if not isinstance(tables, list) or not tables:
        raise DataFileError(path, f"has no [[{field}]] entries")
    found, seen = [], {}
    for number, data in enumerate(tables, 1):
        entry = Entry(path, kind, number, data, key)
        if not isinstance(data, dict):
            raise entry.error(f"must be a table, not {_type_name(data)}")
        ident = data.get(key)
        if isinstance(ident, str) and ident in seen:
            raise entry.error(f"{ident!r} is already used by entry {seen[ident]}", key)
        if isinstance(ident, str):
            seen[ident] = number
        found.append(entry)
    return found
