"""Shared set-up for the review and auto-fix tests: a FakeGitHub with review routes, sample addons.

:class:`ReviewGitHub` is what the lead gets by mixing
:class:`GitHubReviewMixin` into :class:`FakeGitHub`; the sample files are a
small, valid Odoo 18 addon the tests then break in precise ways.
"""

from .github_review_server import GitHubReviewMixin
from .github_server import FakeGitHub

REPO = "acme/erp"


class ReviewGitHub(GitHubReviewMixin, FakeGitHub):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.install_review_routes()

    def reset_all(self):
        """Back to an empty server: no repository, no git data, no recorded request, no fault."""
        with self._lock:
            self.requests.clear()
            self._faults.clear()
        self.repos.clear()
        self.reset_review_state()
        return self

    def start(self):
        super().start()
        # headers and body leave in two writes: without TCP_NODELAY each answer waits for a delayed ACK (~40 ms)
        self._httpd.RequestHandlerClass.disable_nagle_algorithm = True
        return self


MANIFEST = """{
    "name": "Shop Extras",
    "summary": "Extra shop features",
    "version": "18.0.1.0.0",
    "author": "Acme",
    "website": "https://acme.example.com",
    "category": "Sales",
    "license": "LGPL-3",
    "depends": ["sale"],
    "data": [
        "security/ir.model.access.csv",
        "views/shop_extra_views.xml",
    ],
    "installable": True,
}
"""

ACCESS = """id,name,model_id:id,group_id:id,perm_read,perm_write,perm_create,perm_unlink
access_shop_extra_user,shop.extra user,model_shop_extra,base.group_user,1,1,1,0
"""

MODEL = """from odoo import fields, models


class ShopExtra(models.Model):
    _name = "shop.extra"
    _description = "Shop extra"
    _order = "name"

    name = fields.Char(required=True)
    price = fields.Float()

    def total(self, quantity):
        return self.price * quantity
"""

VIEWS = """<?xml version="1.0" encoding="utf-8"?>
<odoo>
    <record id="shop_extra_view_list" model="ir.ui.view">
        <field name="name">shop.extra.list</field>
        <field name="model">shop.extra</field>
        <field name="arch" type="xml">
            <list>
                <field name="name"/>
                <field name="price"/>
            </list>
        </field>
    </record>
</odoo>
"""

INIT = "from . import models\n"
MODELS_INIT = "from . import shop_extra\n"
README = "Shop Extras\n===========\n\nExtra shop features.\n"


def addon_files(root="shop_extras"):
    """A valid addon under ``root``."""
    return {
        f"{root}/__manifest__.py": MANIFEST,
        f"{root}/__init__.py": INIT,
        f"{root}/README.rst": README,
        f"{root}/models/__init__.py": MODELS_INIT,
        f"{root}/models/shop_extra.py": MODEL,
        f"{root}/security/ir.model.access.csv": ACCESS,
        f"{root}/views/shop_extra_views.xml": VIEWS,
        ".github/workflows/ci.yml": "name: CI\non: [push]\njobs: {}\n",
    }


def open_pull(github, changes, number=7, head="feature/extras", title="Shop extras", body="Adds extras.", fork=None):
    """Repository with the sample addon on ``main`` and PR ``number`` applying ``changes`` on ``head``.

    With ``fork`` (a full name) the head branch lives in that fork.
    Returns ``(base sha, head sha)``.
    """
    if REPO not in github.repos:
        github.add_repo(REPO)
    base_sha = github.commit(REPO, addon_files(), message="initial", branch="main")
    head_repo = REPO
    if fork:
        github.add_fork(fork, REPO)
        github.branches.setdefault(fork, {})["main"] = base_sha
        head_repo = fork
    head_sha = github.commit(head_repo, changes, parent=base_sha, message="work", branch=head)
    if fork:
        # GitHub keeps a fork PR's head commit in the base repository too (refs/pull/N/head)
        github.branches[REPO][f"pull/{number}/head"] = head_sha
    github.add_pull(REPO, number, head, "main", head_repo=head_repo, title=title, body=body)
    return base_sha, head_sha
