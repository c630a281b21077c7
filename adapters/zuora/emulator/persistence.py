"""The sandbox emulator's tenant on disk, so that a restart of `billing-gateway run` finds the
changes the gateway made, as a real Zuora tenant would keep them: the objects, the orders placed
over REST and the answers kept for idempotency keys. Written atomically (a temporary file, then a
rename) after each change; sessions, faults and query locators are not kept."""

from __future__ import annotations

import base64
import json
import os
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters.zuora.emulator.rest import RestFace
from adapters.zuora.emulator.rest_shapes import Answer
from adapters.zuora.emulator.state import OBJECT_KINDS, Tenant

FORMAT = 1


class StateFileError(Exception):
    """The state file exists but cannot be read: starting afresh would forget changes."""


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot keep a {type(value).__name__} in the emulator's state")


def snapshot(tenant: Tenant, rest: RestFace) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "objects": tenant.objects,
        "orders": rest.orders,
        "replays": {
            key: {
                "method": method,
                "path": path,
                "digest": digest,
                "status": answer.status,
                "body": base64.b64encode(answer.body).decode(),
                "media_type": answer.media_type,
                "headers": answer.headers,
            }
            for key, (method, path, digest, answer) in rest.replays.items()
        },
    }


def save(path: Path, tenant: Tenant, rest: RestFace) -> None:
    text = json.dumps(snapshot(tenant, rest), default=_plain, ensure_ascii=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def load(path: Path, tenant: Tenant, rest: RestFace) -> bool:
    """Fill `tenant` and `rest` from `path`; False when there is no file yet."""
    if not path.exists():
        return False
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        if state.get("format") != FORMAT:
            raise ValueError(f"format {state.get('format')!r}, expected {FORMAT}")
        objects = state["objects"]
        tenant.objects = {kind: dict(objects.get(kind) or {}) for kind in OBJECT_KINDS}
        rest.orders = dict(state.get("orders") or {})
        rest.replays = {
            key: (
                kept["method"],
                kept["path"],
                kept["digest"],
                Answer(
                    int(kept["status"]),
                    base64.b64decode(kept["body"]),
                    str(kept["media_type"]),
                    headers=dict(kept.get("headers") or {}),
                ),
            )
            for key, kept in (state.get("replays") or {}).items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
        raise StateFileError(
            f"the Zuora emulator's state file {path} cannot be read ({error}); move it away to"
            " start again from the demo customers"
        ) from error
    return True
