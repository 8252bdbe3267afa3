"""Reading the engine's TOML data files: every problem names the file, the entry and the field."""

import pytest

from autopilot.common import datafiles
from autopilot.common.datafiles import DATA_DIR, DataFileError, entries, read_toml


def write(tmp_path, text, name="table.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(call, *args, **kwargs):
    with pytest.raises(DataFileError) as info:
        call(*args, **kwargs)
    return str(info.value)


def test_a_file_below_the_data_folder_is_named_from_there():
    message = error_of(read_toml, "rules/no_such_file.toml")
    assert message.startswith("rules/no_such_file.toml: cannot be read: ")
    assert str(DATA_DIR) not in message


def test_a_file_elsewhere_is_named_by_its_path(tmp_path):
    assert error_of(read_toml, tmp_path / "gone.toml").startswith(f"{tmp_path / 'gone.toml'}: cannot be read")


def test_invalid_toml_names_the_file_and_the_line(tmp_path):
    path = write(tmp_path, '[[rules]]\nname = "a"\npattern = "unclosed\n')
    message = error_of(read_toml, path)
    assert message.startswith(f"{path}: is not valid TOML: ")
    assert "line 3" in message


def test_text_that_is_not_utf8_is_refused(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('name = "café"\n'.encode("latin-1"))
    assert error_of(read_toml, path) == f"{path}: is not UTF-8 text"


def test_a_file_without_entries_is_refused(tmp_path):
    path = write(tmp_path, 'title = "x"\n')
    assert error_of(entries, path, read_toml(path), "rules", "rule", "name") == f"{path}: has no [[rules]] entries"


def test_an_entry_that_is_not_a_table_is_refused(tmp_path):
    path = write(tmp_path, "rules = [1, 2]\n")
    message = error_of(entries, path, read_toml(path), "rules", "rule", "name")
    assert message == f"{path}: rule (entry 1): must be a table, not an integer"


def test_a_name_used_twice_names_both_entries(tmp_path):
    path = write(tmp_path, '[[rules]]\nname = "a"\n\n[[rules]]\nname = "b"\n\n[[rules]]\nname = "a"\n')
    message = error_of(entries, path, read_toml(path), "rules", "rule", "name")
    assert message == f"{path}: rule 'a' (entry 3): field 'name': 'a' is already used by entry 1"


def one_entry(tmp_path, body):
    path = write(tmp_path, "[[rules]]\n" + body)
    return path, entries(path, read_toml(path), "rules", "rule", "name")[0]


def test_text_fields_join_their_pieces_and_refuse_other_types(tmp_path):
    path, entry = one_entry(
        tmp_path, "name = \"a\"\npattern = ['one|', 'two']\nempty = ' '\nnumber = 3\nmixed = ['x', 1]\n"
    )
    assert entry.text("pattern") == "one|two"
    assert entry.text("absent", "fallback") == "fallback"
    prefix = f"{path}: rule 'a' (entry 1): field"
    assert error_of(entry.text, "absent") == f"{prefix} 'absent': missing"
    assert error_of(entry.text, "empty") == f"{prefix} 'empty': is empty"
    assert (
        error_of(entry.text, "number") == f"{prefix} 'number': must be a string (or a list of strings), not an integer"
    )
    assert error_of(entry.text, "mixed") == f"{prefix} 'mixed': must be a string (or a list of strings), not a list"


def test_integer_boolean_and_choice_fields(tmp_path):
    path, entry = one_entry(tmp_path, 'name = "a"\nflag = true\nlevel = 7\nword = "high"\n')
    assert (
        entry.integer("level") == 7
        and entry.boolean("flag") is True
        and entry.choice("word", ("low", "high")) == "high"
    )
    assert entry.integer("absent", 50) == 50
    prefix = f"{path}: rule 'a' (entry 1): field"
    assert error_of(entry.integer, "flag") == f"{prefix} 'flag': must be an integer, not true or false"
    assert error_of(entry.boolean, "level") == f"{prefix} 'level': must be true or false, not an integer"
    assert error_of(entry.choice, "word", ("low", "medium")) == f"{prefix} 'word': 'high' is not one of low, medium"


def test_unknown_fields_are_named(tmp_path):
    path, entry = one_entry(tmp_path, 'name = "a"\npatern = "typo"\n')
    assert error_of(entry.reject_unknown, ("name", "pattern")) == (
        f"{path}: rule 'a' (entry 1): unknown field 'patern'; the fields are name, pattern"
    )


def test_the_error_keeps_its_parts(tmp_path):
    path, entry = one_entry(tmp_path, 'name = "a"\n')
    error = entry.error("is wrong", "pattern")
    assert (error.path, error.entry, error.field, error.problem) == (
        str(path),
        "rule 'a' (entry 1)",
        "pattern",
        "is wrong",
    )
    assert isinstance(error, ValueError)
    assert datafiles.display_path(DATA_DIR / "rules" / "x.toml") == "rules/x.toml"
