"""STUB: the operations team's cheque pages under /staff/cheques."""

from __future__ import annotations

from litestar import Controller


class ChequesPageController(Controller):
    path = "/staff/cheques"
    include_in_schema = False
