"""The sandbox emulator's account on disk (`<data dir>/emulators/stripe.json`), so that a
restart of `make run` keeps what the gateway did at "Stripe" as the gateway's database keeps its
side: objects, the fingerprint key (the same IBAN keeps its fingerprint) and the idempotent
answers (a retry after the restart replays the first answer, as Stripe does for 24 hours).
Written atomically after each write: a temporary file in the same directory, flushed to disk,
then renamed over the old one, so a kill mid-write leaves the previous state, never half of one.
Tests keep their emulators in memory.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from adapters.stripe.emulator.state import StripeAccount

FORMAT = 1


def save(account: StripeAccount, replays: dict[str, Any], path: Path) -> None:
    state = {
        "format": FORMAT,
        "fingerprint_key": account._fingerprint_key.hex(),
        "objects": {object_id: _storable(record) for object_id, record in account.objects.items()},
        "replays": replays,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=".stripe-", suffix=".json", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(state, out, separators=(",", ":"))
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)


def _storable(record: dict[str, Any]) -> dict[str, Any]:
    """No full IBAN on disk: the emulator keeps a method's IBAN the way Stripe does, but never
    reads it back, and the gateway's rule is that a full IBAN is stored only encrypted."""
    return {key: value for key, value in record.items() if key != "_iban"}


def load(account: StripeAccount, path: Path) -> dict[str, Any] | None:
    """Fill `account` from `path`; the saved idempotent answers, or None without a file."""
    if not path.exists():
        return None
    state = json.loads(path.read_text(encoding="utf-8"))
    if state.get("format") != FORMAT:
        raise ValueError(f"{path} was written by another version of the emulator; remove it")
    account._fingerprint_key = bytes.fromhex(state["fingerprint_key"])
    account.objects = dict(state["objects"])
    _relink_embedded(account.objects)
    return dict(state.get("replays") or {})


def _relink_embedded(objects: dict[str, Any]) -> None:
    """In memory a subscription's `items.data` holds the subscription items themselves, so an
    item's update shows on its subscription; JSON writes them twice, so share them again."""
    for record in objects.values():
        embedded = record.get("items") if isinstance(record, dict) else None
        if isinstance(embedded, dict) and isinstance(embedded.get("data"), list):
            embedded["data"] = [
                objects.get(str(item.get("id")), item) if isinstance(item, dict) else item
                for item in embedded["data"]
            ]
