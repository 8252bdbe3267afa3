"""Architecture checks: each rule fires on the breakage it names, and stays quiet on a valid addon."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autopilot import cli
from autopilot.review import architecture, check_kinds, patches, rule_packs
from autopilot.review.architecture import ChangedFile, RulePack, RulePackError, run_checks
from autopilot.testing import review_fixtures as rf

BASE, HEAD = "base-sha", "head-sha"


def change(base_files, edits):
    """``(changed files, loader)`` for a PR applying ``edits`` (path -> text or None) to ``base_files``."""
    head_files = dict(base_files)
    for path, text in edits.items():
        if text is None:
            head_files.pop(path, None)
        else:
            head_files[path] = text
    trees = {BASE: base_files, HEAD: head_files}
    files = []
    for path in sorted(edits):
        old, new = base_files.get(path), head_files.get(path)
        status = "added" if old is None else "removed" if new is None else "modified"
        files.append(ChangedFile(path, status, patches.make_patch(old, new)))
    return files, lambda path, ref: trees[ref].get(path)


def check(edits, base=None, packs=architecture.DEFAULT_PACKS, **kwargs):
    base_files = rf.addon_files() if base is None else base
    files, loader = change(base_files, edits)
    return run_checks(files, loader, HEAD, BASE, packs=packs, **kwargs)


def rules(findings):
    return {f.rule for f in findings}


def bumped(manifest=rf.MANIFEST):
    return manifest.replace("18.0.1.0.0", "18.0.1.1.0")


def test_a_valid_change_has_no_finding():
    model = rf.MODEL.replace("    price = fields.Float()\n", "    price = fields.Float()\n    note = fields.Text()\n")
    findings = check({"shop_extras/models/shop_extra.py": model, "shop_extras/__manifest__.py": bumped()})
    assert findings == []


def test_a_new_valid_addon_has_no_finding():
    findings = check(rf.addon_files("gift_cards"), base={})
    assert findings == []


def test_missing_readme_and_manifest_are_reported_on_the_addon():
    findings = check({"shop_extras/README.rst": None, "loyalty/models/card.py": "x = 1\n"})
    found = {(f.rule, f.path, f.message) for f in findings}
    assert ("addon-required-files", "shop_extras", "addon shop_extras has no README.rst") in found
    assert ("addon-required-files", "loyalty", "addon loyalty has no __manifest__.py") in found


@pytest.mark.parametrize(
    ("version", "ok"),
    [
        ("18.0.1.0.0", True),
        ("18.0.12.3.45", True),
        ("1.0", False),
        ("17.0.1.0.0", False),
        ("18.0.1.0", False),
        ("18.0.1.0.0.0", False),
        ("18.0.1.0.a", False),
    ],
)
def test_manifest_version_format(version, ok):
    manifest = rf.MANIFEST.replace("18.0.1.0.0", version)
    findings = check({"shop_extras/__manifest__.py": manifest})
    version_findings = [f for f in findings if f.rule == "manifest-version"]
    assert (not version_findings) is ok
    if not ok:
        assert version_findings[0].line == 4  # the "version" line of the manifest


def test_manifest_keys_types_and_license():
    manifest = '{"name": "X", "version": "18.0.1.0.0", "license": "MIT", "depends": "sale", "installable": "yes"}'
    findings = check({"shop_extras/__manifest__.py": manifest})
    messages = {(f.rule, f.message) for f in findings}
    assert ("manifest-types", "manifest key 'depends' must be a list of strings") in messages
    assert ("manifest-types", "manifest key 'installable' must be bool") in messages
    assert any(rule == "manifest-license" and "'MIT'" in message for rule, message in messages)
    recommended = next(f for f in findings if f.rule == "manifest-recommended-keys")
    assert recommended.severity == "warning" and "summary" in recommended.message
    # the views file is no longer loaded but still exists; nothing claims a listed file is missing
    assert "manifest-files-exist" not in rules(findings)


def test_a_manifest_that_is_code_is_never_run():
    manifest = "__import__('os').system('touch /tmp/pwned') or {'name': 'x'}"
    findings = check({"shop_extras/__manifest__.py": manifest})
    (syntax,) = [f for f in findings if f.rule == "manifest-syntax"]
    assert syntax.severity == "error" and "literal" in syntax.message


def test_listed_data_files_must_exist():
    manifest = bumped().replace(
        '"views/shop_extra_views.xml",', '"views/shop_extra_views.xml",\n        "data/cron.xml",'
    )
    findings = check({"shop_extras/__manifest__.py": manifest})
    (missing,) = [f for f in findings if f.rule == "manifest-files-exist"]
    assert missing.message == "data file data/cron.xml does not exist"
    assert missing.line == manifest.splitlines().index('        "data/cron.xml",') + 1


NEW_MODEL = """from odoo import fields, models


class {cls}({base}):
    _name = "{name}"
    _description = "x"
{extra}
    name = fields.Char()
"""


@pytest.mark.parametrize(
    ("base", "name", "extra", "needs_access"),
    [
        ("models.Model", "shop.gift", "", True),
        ("models.TransientModel", "shop.gift", "", True),
        ("models.AbstractModel", "shop.gift", "", False),
        ("models.Model", "shop.extra", '    _inherit = "shop.extra"\n', False),  # an extension, not a new model
    ],
)
def test_new_models_need_an_access_rule(base, name, extra, needs_access):
    source = NEW_MODEL.format(cls="ShopGift", base=base, name=name, extra=extra)
    init = rf.MODELS_INIT + "from . import shop_gift\n"
    findings = check(
        {
            "shop_extras/models/shop_gift.py": source,
            "shop_extras/models/__init__.py": init,
            "shop_extras/__manifest__.py": bumped(),
        }
    )
    access = [f for f in findings if f.rule == "model-access"]
    assert bool(access) is needs_access
    if needs_access:
        assert access[0].path == "shop_extras/models/shop_gift.py" and access[0].line == 5
        assert "shop.gift" in access[0].message


def test_an_access_rule_satisfies_the_check():
    source = NEW_MODEL.format(cls="ShopGift", base="models.Model", name="shop.gift", extra="")
    access = rf.ACCESS + "access_shop_gift_user,shop.gift user,model_shop_gift,base.group_user,1,0,0,0\n"
    findings = check(
        {
            "shop_extras/models/shop_gift.py": source,
            "shop_extras/models/__init__.py": rf.MODELS_INIT + "from . import shop_gift\n",
            "shop_extras/security/ir.model.access.csv": access,
            "shop_extras/__manifest__.py": bumped(),
        }
    )
    assert findings == []


def test_access_csv_format():
    broken = rf.ACCESS.replace(",1,1,1,0", ",1,yes,1,0") + "access_x,x,model_x,base.group_user,1\n"
    findings = check({"shop_extras/security/ir.model.access.csv": broken, "shop_extras/__manifest__.py": bumped()})
    problems = {(f.line, f.message) for f in findings if f.rule == "access-csv-format"}
    assert problems == {(2, "permissions must be 0 or 1"), (3, "5 columns instead of 8")}


def test_access_file_not_loaded_by_the_manifest():
    manifest = bumped().replace('        "security/ir.model.access.csv",\n', "")
    findings = check({"shop_extras/__manifest__.py": manifest})
    assert any(f.rule == "access-csv-format" and "not loaded" in f.message for f in findings)


def test_xml_that_does_not_parse_is_reported_with_its_line():
    broken = rf.VIEWS.replace('<field name="price"/>', '<field name="price">')
    findings = check({"shop_extras/views/shop_extra_views.xml": broken, "shop_extras/__manifest__.py": bumped()})
    (syntax,) = [f for f in findings if f.rule == "xml-syntax"]
    assert syntax.severity == "error" and syntax.line >= 9


def test_external_entities_are_not_resolved():
    hostile = (
        '<?xml version="1.0"?>\n<!DOCTYPE odoo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        '<odoo><record id="a" model="x"><field name="name">&xxe;</field></record></odoo>\n'
    )
    root, _error = check_kinds.parse_xml(hostile)
    assert root is None or "root:" not in "".join(root.itertext())


def test_odoo18_removals_only_on_added_lines():
    old_style = rf.VIEWS.replace("<list>", '<tree string="x">').replace("</list>", "</tree>")
    cron = (
        '<?xml version="1.0"?>\n<odoo>\n    <record id="cron_x" model="ir.cron">\n'
        '        <field name="numbercall">-1</field>\n    </record>\n'
        '    <record id="view_x" model="ir.ui.view">\n        <field name="arch" type="xml">\n'
        '            <form><field name="name" attrs="{\'invisible\': 1}"/></form>\n'
        "        </field>\n    </record>\n</odoo>\n"
    )
    findings = check(
        {
            "shop_extras/views/shop_extra_views.xml": old_style,
            "shop_extras/data/cron.xml": cron,
            "shop_extras/__manifest__.py": bumped(),
        }
    )
    removed = {(f.path.rsplit("/", 1)[1], f.line) for f in findings if f.rule == "xml-odoo18-removed"}
    assert removed == {("shop_extra_views.xml", 7), ("cron.xml", 4), ("cron.xml", 8)}
    # the same old code already on the base branch is not blamed on this PR
    base = dict(rf.addon_files(), **{"shop_extras/views/shop_extra_views.xml": old_style})
    unrelated = check({"shop_extras/__manifest__.py": bumped()}, base=base)
    assert "xml-odoo18-removed" not in rules(unrelated)


def test_duplicate_xml_ids():
    doubled = rf.VIEWS.replace("</odoo>", '    <record id="shop_extra_view_list" model="ir.ui.view"/>\n</odoo>')
    findings = check({"shop_extras/views/shop_extra_views.xml": doubled, "shop_extras/__manifest__.py": bumped()})
    (dup,) = [f for f in findings if f.rule == "xml-duplicate-ids"]
    assert dup.line == 13 and "line 3" in dup.message


def test_oca_structure_rules():
    two_models = NEW_MODEL.format(cls="A", base="models.Model", name="shop.gift", extra="") + (
        '\n\nclass B(models.Model):\n    _inherit = "res.partner"\n'
    )
    findings = check(
        {
            "shop_extras/models/gifts.py": two_models,
            "shop_extras/views/gifts.xml": rf.VIEWS.replace("shop_extra_view_list", "gift_view_list"),
            "shop_extras/__manifest__.py": bumped(),
        }
    )
    by_rule = {f.rule: f for f in findings}
    assert by_rule["oca-one-model-per-file"].line == 11
    assert by_rule["oca-model-file-name"].message == "model shop.gift belongs in models/shop_gift.py"
    assert by_rule["oca-models-imported"].message == "models/__init__.py does not import gifts"
    assert by_rule["oca-models-imported"].severity == "error"
    assert by_rule["oca-view-file-name"].path == "shop_extras/views/gifts.xml"


def test_print_except_pass_and_sql_only_on_added_lines():
    old = rf.MODEL + "\n    def legacy(self):\n        print('old')\n"
    base = dict(rf.addon_files(), **{"shop_extras/models/shop_extra.py": old})
    new = old + (
        "\n    def risky(self, name):\n"
        "        print(name)\n"
        "        print('cli')  # pylint: disable=print-used\n"
        "        try:\n            self.env.cr.execute(f\"SELECT * FROM x WHERE name = '{name}'\")\n"
        "        except Exception:\n            pass\n"
        "        self.env.cr.execute('SELECT 1 FROM x WHERE name = %s', (name,))\n"
        "        self.env.cr.execute('SELECT 1 FROM x WHERE name = ' + name)\n"
    )
    findings = check({"shop_extras/models/shop_extra.py": new, "shop_extras/__manifest__.py": bumped()}, base=base)
    lines = {(f.rule, f.line) for f in findings}
    assert ("oca-no-print", 19) in lines
    assert ("oca-no-print", 16) not in lines  # existing code
    assert ("oca-no-print", 20) not in lines  # explicitly allowed
    assert ("python-sql-injection", 22) in lines and ("python-sql-injection", 26) in lines
    assert ("python-sql-injection", 25) not in lines  # parameters: fine
    assert ("oca-except-pass", 23) in lines


def test_python_syntax_and_conflict_markers():
    broken = rf.MODEL + "\n<<<<<<< HEAD\n    x = 1\n=======\n    x = 2\n>>>>>>> other\n"
    findings = check({"shop_extras/models/shop_extra.py": broken, "shop_extras/__manifest__.py": bumped()})
    assert {f.line for f in findings if f.rule == "conflict-markers"} == {15, 17, 19}
    assert any(f.rule == "python-syntax" and f.line == 15 for f in findings)


def test_version_not_bumped_is_a_warning():
    model = rf.MODEL.replace("price = fields.Float()", "price = fields.Float(digits=(16, 4))")
    findings = check({"shop_extras/models/shop_extra.py": model})
    (bump,) = findings
    assert bump.rule == "manifest-version-bump" and bump.severity == "warning"


def test_files_outside_addons_and_removed_addons_are_ignored():
    base = dict(rf.addon_files(), **{f"old_addon/{k.split('/', 1)[1]}": v for k, v in rf.addon_files().items()})
    removed = {path: None for path in base if path.startswith("old_addon/")}
    findings = check(dict(removed, **{".github/workflows/ci.yml": "name: CI\n", "tools/x.py": "print(1)\n"}), base=base)
    assert findings == []


def test_the_repository_root_can_be_the_addon():
    base = {k.split("/", 1)[1]: v for k, v in rf.addon_files().items() if k.startswith("shop_extras/")}
    findings = check(
        {"__manifest__.py": base["__manifest__.py"].replace("18.0.1.0.0", "2.0")}, base=base, root_name="x"
    )
    assert [(f.rule, f.path) for f in findings] == [("manifest-version", "__manifest__.py")]


def test_disabled_rules_are_skipped():
    findings = check({"shop_extras/models/shop_extra.py": rf.MODEL + "\nprint(1)\n"}, disabled={"oca-no-print"})
    assert "oca-no-print" not in rules(findings) and "manifest-version-bump" in rules(findings)


# -- rule packs as data ----------------------------------------------------------


def test_a_team_pack_from_json_data():
    pack = RulePack.from_dict(
        {
            "name": "acme",
            "rules": [
                {
                    "id": "acme-no-sudo",
                    "kind": "forbidden_regex",
                    "severity": "warning",
                    "params": {"regex": r"\.sudo\(\)", "globs": ["*.py"], "message": "sudo() needs a comment"},
                },
                {"id": "acme-depends-mail", "kind": "manifest_depends", "params": {"all_of": ["mail"]}},
            ],
        }
    )
    assert RulePack.from_dict(pack.to_dict()) == pack
    model = rf.MODEL + "\n    def x(self):\n        return self.sudo().search([])\n"
    findings = check({"shop_extras/models/shop_extra.py": model}, packs=[pack])
    assert {(f.rule, f.line) for f in findings} == {("acme-no-sudo", 16), ("acme-depends-mail", 9)}


@pytest.mark.parametrize(
    "data",
    [
        [],
        {"name": "x"},
        {"name": "Bad Name", "rules": [{"id": "a", "kind": "xml_syntax"}]},
        {"name": "x", "rules": [{"id": "a", "kind": "no_such_kind"}]},
        {"name": "x", "rules": [{"id": "a", "kind": "xml_syntax", "severity": "fatal"}]},
        {"name": "x", "rules": [{"id": "a", "kind": "xml_syntax", "surprise": 1}]},
        {"name": "x", "rules": [{"id": "a", "kind": "xml_syntax"}, {"id": "a", "kind": "xml_syntax"}]},
        {"name": "x", "rules": [{"id": "a", "kind": "forbidden_regex", "params": {"regex": "("}}]},
        {"name": "x", "rules": [{"id": "a", "kind": "forbidden_regex", "params": {"regex": "x", "globs": "*.py"}}]},
        {"name": "x", "rules": [{"id": "a", "kind": "manifest_depends", "params": {"nope": []}}]},
        {"name": "x", "rules": [{"id": "a", "kind": "xml_syntax", "applies_when": {"addon_regex": "["}}]},
        {"name": "x", "rules": [{"id": "a", "kind": "xml_syntax", "applies_when": {"when": "always"}}]},
    ],
)
def test_malformed_packs_are_refused(data):
    with pytest.raises(RulePackError):
        RulePack.from_dict(data)


def test_registry():
    assert {"odoo", "oca", "tax_ph"} <= set(rule_packs.available_packs())
    with pytest.raises(RulePackError):
        rule_packs.register_pack(rule_packs.get_pack("odoo"))
    with pytest.raises(RulePackError):
        rule_packs.get_pack("nope")
    with pytest.raises(RulePackError):
        check({}, packs=["nope"])


def test_a_crashing_rule_reports_itself_and_the_others_still_run():
    @check_kinds.check_kind("test_explodes")
    def _explodes(rule, addon):
        raise ZeroDivisionError
        yield  # pragma: no cover

    pack = {"name": "boom", "rules": [{"id": "boom", "kind": "test_explodes"}, {"id": "syn", "kind": "xml_syntax"}]}
    findings = check({"shop_extras/views/shop_extra_views.xml": "<odoo>"}, packs=[pack])
    assert {(f.rule, f.severity) for f in findings} == {("boom", "info"), ("syn", "error")}


def test_loader_failures_are_not_swallowed():
    files = [ChangedFile("shop_extras/models/shop_extra.py", "modified", patches.make_patch("a\n", "b\n"))]

    def broken(path, ref):
        raise ConnectionError("github down")

    with pytest.raises(architecture.LoaderError) as info:
        run_checks(files, broken, HEAD)
    assert "ConnectionError" in info.value.describe()


# -- tax_ph ------------------------------------------------------------------------

TAX_CSV = (
    '"id","name","type_tax_use","amount","amount_type","tax_group_id","l10n_ph_atc"\n'
    '"ph_wi010","5% WI010","purchase","-5.0","percent","ph_group_wht_5","WI010"\n'
)
TAX_GROUP_CSV = '"id","name"\n"ph_group_wht_5","EWT 5%"\n'


def tax_addon(depends='["account", "l10n_ph"]', csv=TAX_CSV, group=TAX_GROUP_CSV, name="l10n_ph_withholding_tax"):
    manifest = rf.MANIFEST.replace('["sale"]', depends).replace(
        '"installable": True,', '"installable": True,\n    "countries": ["ph"],'
    )
    files = {
        f"{name}/__manifest__.py": manifest.replace(
            '"views/shop_extra_views.xml",', '"views/shop_extra_views.xml",\n        "data/account_tax_data.xml",'
        ),
        f"{name}/README.rst": rf.README,
        f"{name}/security/ir.model.access.csv": rf.ACCESS,
        f"{name}/views/shop_extra_views.xml": rf.VIEWS,
        f"{name}/data/account_tax_data.xml": '<?xml version="1.0"?>\n<odoo/>\n',
    }
    if csv is not None:
        files[f"{name}/data/template/account.tax-ph.csv"] = csv
    if group is not None:
        files[f"{name}/data/template/account.tax.group-ph.csv"] = group
    return files


def test_tax_ph_accepts_a_complete_module():
    assert check(tax_addon(), base={}, packs=["tax_ph"]) == []


def test_tax_ph_requires_the_localisation_dependency():
    findings = check(tax_addon(depends='["account"]'), base={}, packs=["tax_ph"])
    assert [(f.rule, f.severity) for f in findings] == [("tax-ph-localisation-dependency", "error")]


def test_tax_ph_requires_tax_group_data_and_atc_column():
    no_atc = TAX_CSV.replace(',"l10n_ph_atc"', "").replace(',"WI010"', "")
    findings = check(tax_addon(csv=no_atc, group=None), base={}, packs=["tax_ph"])
    assert rules(findings) == {"tax-ph-tax-group-data", "tax-ph-tax-csv-columns"}
    columns = next(f for f in findings if f.rule == "tax-ph-tax-csv-columns")
    assert columns.message == "CSV header lacks l10n_ph_atc"


def test_tax_ph_leaves_other_addons_alone():
    assert check(rf.addon_files("gift_cards"), base={}, packs=["tax_ph"]) == []


# -- invariants ----------------------------------------------------------------------

_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=300)
_PATHS = st.sampled_from(
    [
        "shop_extras/__manifest__.py",
        "shop_extras/models/shop_extra.py",
        "shop_extras/models/new.py",
        "shop_extras/views/shop_extra_views.xml",
        "shop_extras/security/ir.model.access.csv",
        "shop_extras/data/template/account.tax-ph.csv",
        "l10n_ph_tax/__manifest__.py",
        "other/models/x.py",
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(_PATHS, st.one_of(st.none(), _TEXT), min_size=1, max_size=4))
def test_any_content_gives_findings_never_a_crash(edits):
    findings = check(edits, packs=["odoo", "oca", "tax_ph"])
    changed_roots = {p.split("/")[0] for p in edits}
    for finding in findings:
        assert finding.severity in architecture.SEVERITIES
        assert finding.path.split("/")[0] in changed_roots
        assert finding.line >= 0
        assert finding.message


# -- command line ------------------------------------------------------------------------


def _parser():
    return cli.build_parser()


def test_cli_mask_secrets(tmp_path, capsys):
    log = tmp_path / "job.log"
    log.write_text("Run deploy\nGITHUB_TOKEN=ghp_" + "z" * 36 + "\ndone\n")
    args = _parser().parse_args(["mask-secrets", str(log)])
    assert args.handler(args, None) == 0
    out, err = capsys.readouterr()
    assert out == "Run deploy\nGITHUB_TOKEN=[MASKED:github-token]\ndone\n" and "1 secret" in err


def test_cli_arch_check_refuses_unknown_refs():
    parser = _parser()
    args = parser.parse_args(["arch-check", "--repo", str(rf.__file__).rsplit("/", 3)[0], "--base", "no-such-ref-x"])
    with pytest.raises(SystemExit) as info:
        args.handler(args, parser)
    assert info.value.code == 2
