"""Stripe's webhook signature, as Stripe computes it: `t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<raw body>">`, keyed with the whole `whsec_...` secret."""

from __future__ import annotations

import hashlib
import hmac
import time


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    moment = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(
        secret.encode(), str(moment).encode() + b"." + payload, hashlib.sha256
    ).hexdigest()
    return f"t={moment},v1={digest}"
