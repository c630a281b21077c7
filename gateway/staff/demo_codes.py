"""Sandbox only: the current TOTP code of an account, so that a demo needs no phone."""

from __future__ import annotations

import pyotp

from gateway.core.crypto import Cipher
from gateway.core.db.connection import fetch
from gateway.staff import queries
from gateway.staff.login import TOTP_AAD
from settings import get_settings


async def current_code(username: str) -> str | None:
    settings = get_settings()
    if not settings.sandbox:
        raise RuntimeError("authenticator codes are printed only in sandbox mode")
    rows = await fetch(
        queries.DEMO_TOTP_SECRET,
        username.strip().lower(),
    )
    if not rows or rows[0]["secret"] is None:
        return None
    secret = Cipher(settings.keys).decrypt(rows[0]["secret"], context=TOTP_AAD)
    return pyotp.TOTP(secret).now()
