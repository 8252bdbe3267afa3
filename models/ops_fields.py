"""Field types the addon needs beyond Odoo's own."""

from odoo import fields


class BigInteger(fields.Integer):
    """An integer stored as PostgreSQL ``bigint``.

    GitHub ids (jobs, check runs, deliveries) passed 2**31 long ago; Odoo's
    ``Integer`` is ``int4``. Values above 2**31 reach the web client as
    floats, exact up to 2**53, which covers GitHub's ids.
    """

    _column_type = ("int8", "int8")
