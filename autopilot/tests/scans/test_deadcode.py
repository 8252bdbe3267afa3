import io
import json
import tarfile

import pytest

from autopilot.common.errors import BadAnswer, ServiceUnavailable, TooLarge
from autopilot.github import archives, rest_api
from autopilot.scans import deadcode
from autopilot.testing.github_scans_server import ScanGitHub, make_tarball

MODEL = """\
import logging
import os

from odoo import api, fields, http, models

_logger = logging.getLogger(__name__)


class SaleOrder(models.Model):
    _inherit = "sale.order"
    _description = "Sale order with margins"
    _order = "date_order desc"

    margin_pct = fields.Float(compute="_compute_margin_pct", inverse="_inverse_margin_pct", search="_search_margin")
    legacy_code = fields.Char()

    @api.depends("amount_total")
    def _compute_margin_pct(self):
        for order in self:
            order.margin_pct = 0.0

    def _inverse_margin_pct(self):
        pass

    def _search_margin(self, operator, value):
        return []

    @api.onchange("partner_id")
    def _onchange_partner_warning(self):
        pass

    @api.constrains("margin_pct")
    def _validate_margin(self):
        pass

    @api.model
    def rpc_only_entry(self):
        return True

    def action_recompute(self):
        return True

    def _prepare_invoice(self):
        values = super()._prepare_invoice()
        return values

    def button_from_view(self):
        return True

    def _run_nightly(self):
        return True

    def called_from_js(self):
        return True

    def helper_never_called(self):
        return 1

    def helper_used_by_tests(self):
        return 2


class Portal(http.Controller):
    @http.route("/my/orders", auth="user")
    def orders(self):
        return ""


def orphan_function():
    return 3


def unreachable():
    return 4
    print("never")
"""

SOURCES = {
    "sale_margin/models/sale_order.py": MODEL,
    "sale_margin/views/sale_order_views.xml": '<odoo><record id="v" model="ir.ui.view"><field name="arch" type="xml">'
    '<form><button name="button_from_view" type="object"/></form></field></record></odoo>',
    "sale_margin/data/cron.xml": '<odoo><record id="c" model="ir.cron"><field name="code">model._run_nightly()</field>'
    "</record></odoo>",
    "sale_margin/static/src/margin.js": 'await this.orm.call("sale.order", "called_from_js", [ids]);',
    "sale_margin/tests/test_margin.py": "def test_margin(order):\n    order.helper_used_by_tests()\n"
    "\ndef unused_test_helper():\n    pass\n",
    "sale_margin/migrations/18.0.1.1/post-migrate.py": "def migrate(cr, version):\n    pass\n\ndef old():\n    pass\n",
    "sale_margin/__manifest__.py": '{"name": "Sale margin", "depends": ["sale"]}\n',
    "sale_margin/broken.py": "def broken(:\n",
}


def test_odoo_hooks_are_not_reported_and_real_dead_code_is():
    progress = []
    findings, scanned, skipped = deadcode.analyse_sources(
        SOURCES, batch_size=2, progress=lambda done, total: progress.append((done, total))
    )
    reported = {(f.name, f.kind) for f in findings}
    assert reported == {
        ("os", "import"),
        ("helper_never_called", "method"),
        ("orphan_function", "function"),
        ("unreachable", "function"),
        ("return", "unreachable_code"),
    }
    assert all(f.path == "sale_margin/models/sale_order.py" for f in findings)
    assert next(f for f in findings if f.name == "os").line == 2
    assert scanned == 4 and skipped == [("sale_margin/broken.py", "not parsable Python")]
    assert progress == [(2, 5), (4, 5), (5, 5)]


def test_a_scan_in_steps_finds_exactly_what_one_pass_finds():
    """A large repository is read over several cron calls: the state crosses them as JSON."""
    one_pass = deadcode.analyse_sources(SOURCES)
    ticks = iter(range(1000))
    state, steps = None, 0
    while state is None or state["next"] < state["total"]:
        # the deadline has passed as soon as it is set: one batch of one file per step
        state = deadcode.analyse_step(SOURCES, state, deadline=0, clock=lambda: next(ticks), batch_size=1)
        state = json.loads(json.dumps(state))
        steps += 1
    assert steps == 5 and (state["next"], state["total"]) == (5, 5)
    assert deadcode.finish_analysis(state) == one_pass
    with pytest.raises(ValueError):
        deadcode.finish_analysis(deadcode.analyse_step(SOURCES, deadline=0, batch_size=1))


def test_confidence_threshold_and_custom_excludes():
    strict, _, _ = deadcode.analyse_sources(SOURCES, min_confidence=90)
    assert {f.kind for f in strict} == {"import", "unreachable_code"}  # no framework-dictated arguments
    everything, _, _ = deadcode.analyse_sources(SOURCES, exclude=(), ignore_names=(), ignore_decorators=())
    names = {f.name for f in everything}
    assert {"unused_test_helper", "old", "_inverse_margin_pct", "rpc_only_entry", "orders", "operator"} <= names


@pytest.fixture
def gh():
    server = ScanGitHub().start()
    server.seed_repo("acme/erp", SOURCES)
    yield server
    server.stop()


def connect(server):
    return rest_api.connect(server.url, "test-token", timeout=5, retries=0)


def test_scan_repository_links_findings_to_the_scanned_commit(gh):
    scan = deadcode.scan_repository(connect(gh), "acme/erp", api_url=gh.url)
    sha = gh.branch_sha("acme/erp", "main")
    assert scan.sha == sha and scan.complete and scan.scanned_files == 4
    assert gh.calls("GET", r"/tarball/")[-1].path == f"/repos/acme/erp/tarball/{sha}"
    orphan = next(f for f in scan.findings if f.name == "orphan_function")
    assert orphan.url == f"{gh.url}/acme/erp/blob/{sha}/sale_margin/models/sale_order.py#L{orphan.line}"
    (download,) = gh.storage.calls("GET", r"^/codeload/")  # the archive comes from another host
    assert "authorization" not in download.headers


def test_github_com_links():
    assert (
        deadcode.blob_url(rest_api.html_base("https://api.github.com"), "acme/erp", "abc", "a/b.py", 7)
        == "https://github.com/acme/erp/blob/abc/a/b.py#L7"
    )


def member(name, kind=tarfile.REGTYPE, size=0, linkname=""):
    info = tarfile.TarInfo(name)
    info.type, info.size, info.linkname = kind, size, linkname
    return info


def hostile_tarball():
    return make_tarball(
        "acme-erp-1234567",
        {"ok/module.py": "def alive():\n    return 1\n", "ok/big.py": "x = 1\n" * 50_000},
        extra_members=[
            (member("acme-erp-1234567/ok/link.py", tarfile.SYMTYPE, linkname="/etc/passwd"), None),
            (member("acme-erp-1234567/ok/hard.py", tarfile.LNKTYPE, linkname="acme-erp-1234567/ok/module.py"), None),
            (member("acme-erp-1234567/../../evil.py", size=4), b"x=1\n"),
            (member("/abs/evil.py", size=4), b"x=1\n"),
            (member("acme-erp-1234567/ok/fifo.py", tarfile.FIFOTYPE), None),
        ],
    )


def test_hostile_archives_are_read_safely(tmp_path):
    data = hostile_tarball()
    archive = archives.read_tarball(data, max_file_bytes=100_000)
    assert set(archive.files) == {"ok/module.py"}
    reasons = dict(archive.skipped)
    assert reasons["ok/big.py"] == "too large"
    assert reasons["ok/link.py"] == "link" and reasons["ok/hard.py"] == "link"
    assert reasons["ok/fifo.py"] == "not a regular file"
    assert list(reasons.values()).count("unsafe path") == 2
    written = archives.extract_tarball(data, tmp_path / "out", max_file_bytes=100_000)
    assert set(written.files) == {"ok/module.py"}
    on_disk = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*"))
    assert on_disk == ["out", "out/ok", "out/ok/module.py"]
    assert not any(p.is_symlink() for p in tmp_path.rglob("*"))


def test_repository_steps_stay_on_the_first_commit(gh):
    client = connect(gh)
    sha = gh.branch_sha("acme/erp", "main")
    state, scan = deadcode.scan_repository_step(client, "acme/erp", deadline=0)
    assert scan is None and state["sha"] == sha and state["analysis"]["next"] < state["analysis"]["total"]
    gh.commit("acme/erp", {"sale_margin/models/sale_order.py": "import os\n"}, branch="main")  # pushed meanwhile
    while scan is None:
        state, scan = deadcode.scan_repository_step(client, "acme/erp", json.loads(json.dumps(state)), deadline=0)
    assert scan.sha == sha and {f.name for f in scan.findings} >= {"orphan_function", "helper_never_called"}
    assert {call.path for call in gh.calls("GET", r"/tarball/")} == {f"/repos/acme/erp/tarball/{sha}"}


def test_limits_make_a_partial_scan_that_says_so(gh):
    scan = deadcode.scan_repository(connect(gh), "acme/erp", max_files=5)
    assert not scan.complete and any(reason == "file limit" for _, reason in scan.skipped)
    _title, body = deadcode.build_issue(scan)
    assert "covers part of it" in body


def test_download_trouble_is_typed(gh):
    client = connect(gh)
    gh.fail_next(1, status=500, path_re=r"/tarball/")
    with pytest.raises(ServiceUnavailable):
        deadcode.scan_repository(client, "acme/erp")
    with pytest.raises(TooLarge):
        deadcode.scan_repository(client, "acme/erp", max_archive_bytes=100)
    sha = gh.branch_sha("acme/erp", "main")
    gh.tarballs[("acme/erp", sha)] = b"\x1f\x8b not really gzip"
    with pytest.raises(BadAnswer):
        deadcode.scan_repository(client, "acme/erp")
    truncated = make_tarball("r", {"a.py": "x = 1\n" * 1000})[:-200]
    with pytest.raises(BadAnswer):
        archives.read_tarball(truncated)


def test_one_issue_per_scan_grouped_by_file_and_capped():
    findings = tuple(
        deadcode.DeadCodeFinding(
            f"pkg/mod{i % 3}.py",
            i + 1,
            "function",
            f"f{i}",
            60,
            f"unused function 'f{i}'",
            f"https://github.com/acme/erp/blob/abc/pkg/mod{i % 3}.py#L{i + 1}",
        )
        for i in range(30)
    )
    scan = deadcode.DeadCodeScan("acme/erp", "abc123def456", findings, 3)
    title, body = deadcode.build_issue(scan)
    assert title == "Dead code cleanup: 30 unused items in 3 files"
    assert body.startswith(deadcode.MARKER) and body.count("### `pkg/mod") == 3
    assert "- [ ] [L1](https://github.com/acme/erp/blob/abc/pkg/mod0.py#L1) unused function 'f0'" in body
    _, short = deadcode.build_issue(scan, max_chars=1200)
    assert len(short) <= 1200 and "more items are not listed" in short
    assert deadcode.build_issue(deadcode.DeadCodeScan("acme/erp", "abc", (), 3)) is None


def test_publishing_is_idempotent_per_commit(gh):
    client = connect(gh)
    scan = deadcode.scan_repository(client, "acme/erp")
    first = deadcode.publish_issue(client, "acme/erp", *deadcode.build_issue(scan))
    assert first.created and not first.commented
    (created,) = gh.calls("POST", r"/issues$")
    assert created.json()["labels"] == ["dead-code"]
    again = deadcode.publish_issue(client, "acme/erp", *deadcode.build_issue(scan))
    assert (again.number, again.created, again.commented) == (first.number, False, False)
    gh.commit("acme/erp", {"sale_margin/models/extra.py": "def another_orphan():\n    pass\n"}, branch="main")
    rescan = deadcode.scan_repository(client, "acme/erp")
    update = deadcode.publish_issue(client, "acme/erp", *deadcode.build_issue(rescan))
    assert update.commented and update.number == first.number
    comments = gh.issue_comments[("acme/erp", first.number)]
    assert "another_orphan" in comments[-1]["body"]
    gh.scan_issues["acme/erp"][first.number]["state"] = "closed"
    reopened = deadcode.publish_issue(client, "acme/erp", *deadcode.build_issue(rescan))
    assert reopened.created and reopened.number != first.number


def test_repo_archive_refuses_non_tar_data():
    with pytest.raises(BadAnswer):
        archives.read_tarball(b"plain text, not an archive")
    assert archives.safe_relative("C:/windows/evil.py") is None
    assert archives.safe_relative("root/a/./b.py", strip_root=True) == "a/b.py"
    assert archives.safe_relative("root/a\\b.py") is None
    buffer = io.BytesIO()
    assert buffer.getvalue() == b""
