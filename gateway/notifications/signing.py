"""The Standard Webhooks headers of one request, signed by the `standardwebhooks` library."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from standardwebhooks import Webhook

SECRET_BYTES = 24
USER_AGENT = "billing-gateway"


def new_secret() -> str:
    """`whsec_` and 24 random bytes in base64, as Standard Webhooks receivers expect."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signed_headers(secret: str, message_id: str, body: bytes, at: datetime) -> dict[str, str]:
    """Headers for sending `body`: the id stays the same across tries and resends, the
    timestamp and signature are made anew for each."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, at, body),
        "content-type": "application/json",
        "user-agent": USER_AGENT,
    }


SECRET_CONTEXT = "notification_endpoint.secret"  # noqa: S105 (a name, bound to the ciphertext (gateway/core/crypto.py))
