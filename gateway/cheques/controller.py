"""STUB: the /v1 cheque, batch and report handlers."""

from __future__ import annotations

from litestar import Controller

from gateway.edge.openapi import SECURITY


class ChequeController(Controller):
    tags = ["offline payments"]
    security = SECURITY
