"""A correction filed from a back-office form is filed once, however often that form is sent.

Every form the customer page shows carries a fresh token. The first submission claims it
(committed before anything is filed), files, and writes the correction next to the token; a
second submission of the same form (a double click, a reload that posts again) finds the
claim and answers with that correction, waiting a moment while the first is still filing. A
refusal files nothing and frees the token, so the form can be corrected and sent again.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

from gateway.core.db.connection import fetch
from gateway.core.errors import BillingError, ErrorCode
from gateway.staff import queries
from gateway.staff.member import StaffMember

WAIT_SECONDS = 10.0
_POLL_SECONDS = 0.25
_KEPT_DAYS = 7
_FILING = (
    "This form was sent already and is still being filed. Reload the customer page in a "
    "moment: the correction shows there."
)


def form_token(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise BillingError(
            ErrorCode.VALIDATION_FAILED,
            "This form is too old to send; reload the page and fill it in again.",
        ) from None


async def _earlier(
    staff: StaffMember, token: uuid.UUID, action: str, busy: str
) -> uuid.UUID | None:
    """The correction an earlier submission of this form filed; None when it was refused (the
    token is free again). Waits while that submission is still filing."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while True:
        rows = await fetch(queries.FORM_TOKEN, staff.id, token)
        if not rows:
            return None
        if rows[0]["action"] != action:
            raise BillingError(
                ErrorCode.IDEMPOTENCY_KEY_REUSED,
                "This form was already used for another action; reload the page.",
            )
        if rows[0]["correction_id"] is not None:
            return uuid.UUID(str(rows[0]["correction_id"]))
        if loop.time() >= deadline:
            raise BillingError(ErrorCode.IDEMPOTENCY_REQUEST_IN_PROGRESS, busy)
        await asyncio.sleep(_POLL_SECONDS)


async def file_once(
    staff: StaffMember,
    token: uuid.UUID,
    action: str,
    file: Callable[[], Awaitable[uuid.UUID]],
    *,
    busy: str = _FILING,
) -> uuid.UUID:
    """The correction this form filed: filed now by `file`, or found from an earlier send.
    Any other page's form done once (the id it made is kept in the same column) says in `busy`
    what to do while an earlier send of it is still running."""
    for _ in range(3):  # a refused earlier submission frees the token: claim it then
        claimed = await fetch(queries.CLAIM_FORM_TOKEN, staff.id, token, action)
        if not claimed:
            earlier = await _earlier(staff, token, action, busy)
            if earlier is not None:
                return earlier
            continue
        try:
            correction_id = await file()
        except BillingError:  # refused: nothing was filed (anything else keeps the claim)
            await fetch(
                queries.DROP_FORM_TOKEN,
                staff.id,
                token,
            )
            raise
        await fetch(
            queries.FILED_FORM_TOKEN,
            staff.id,
            token,
            correction_id,
        )
        await fetch(
            queries.PURGE_FORM_TOKENS,
            _KEPT_DAYS,
        )
        return correction_id
    raise BillingError(
        ErrorCode.IDEMPOTENCY_REQUEST_IN_PROGRESS,
        "This form is being sent from another tab; reload the customer page.",
    )
