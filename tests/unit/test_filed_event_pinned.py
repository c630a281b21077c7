"""The FILED event a filing writes, pinned byte for byte: the values its statement receives
(payload JSON, notes JSON in French and Arabic, customer JSON) for fixed rows, among them rows
whose customer references hold an IBAN or a card number that every language must mask."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway.change_requests.notification_events import filed_event_values
from gateway.change_requests.states import Kind, Status

FILED_AT = datetime(2026, 12, 6, 3, 21, 1, 552331, tzinfo=UTC)
EVENT_ID = uuid.UUID("00000000-0000-4000-8000-0000000000e1")


def _row(**changes: Any) -> dict[str, Any]:
    """A request as filing writes it (queries.row_dict), copied from a real filing."""
    row: dict[str, Any] = {
        "id": uuid.UUID("e48771ca-dd85-43e8-8d95-78365c7f55ae"),
        "kind": Kind.IBAN_CHANGE,
        "status": Status.NEW,
        "ticket": "zendesk:t1r123n45",
        "ticket_url": "https://example.zendesk.com/agent/tickets/1",
        "zuora_account_id": "A00000101",
        "stripe_customer_id": None,
        "stripe_connect_account_id": None,
        "backoffice_id": "shop-101",
        "company_name": "Atelier Lumière SARL",
        "requester": {"name": "Camille", "email": "camille@example.com"},
        "contact_reasons": ["Billing > Payment method > Bank details change"],
        "details": {
            "kind": "iban_change",
            "iban_masked": "FR****0189",
            "iban_country": "FR",
            "bank_name": "CREDIT AGRICOLE SA",
            "bic": "AGRIFRPPXXX",
            "account_holder": "Atelier Lumière SARL",
            "targets": ["stripe_customer_debit", "zuora_collection"],
        },
        "client": "test-tool",
        "assignee_id": None,
        "processed_by_id": None,
        "reviewed_by_id": None,
        "applied_by": None,
        "checks": None,
        "triage_reason": None,
        "review_required": False,
    }
    return {**row, **changes}


PLAN_DETAILS = {
    "kind": "plan_change",
    "subscription_ref": "A-S00000102",
    "current_tier": "solo",
    "target_tier": {
        "name": "team",
        "min_seats": 2,
        "max_seats": 4,
        "monthly_price_minor": 4900,
        "currency": "EUR",
    },
    "direction": "upgrade",
}

ROWS = {
    "iban_change": _row(),
    "plan_change": _row(
        kind=Kind.PLAN_CHANGE,
        ticket="intercom:abc",
        zuora_account_id=None,
        stripe_customer_id="cus_Demo1",
        backoffice_id="shop-102",
        details=PLAN_DETAILS,
    ),
    "plan_change_without_tier": _row(
        kind=Kind.PLAN_CHANGE,
        zuora_account_id=None,
        stripe_connect_account_id="acct_1Nv0FGQ9RKHgCVdK",
        details={"kind": "plan_change", "current_tier": "solo", "target_tier": None},
    ),
    "no_reference": _row(zuora_account_id=None, backoffice_id=None, ticket=None),
    # A reference holding an IBAN, and a tier named by a card number: masked in every language.
    "iban_in_reference": _row(zuora_account_id="DE89 3704 0044 0532 0130 00"),
    "card_in_reference": _row(
        kind=Kind.PLAN_CHANGE,
        zuora_account_id=None,
        backoffice_id="4539 5787 6362 1486",
        details={**PLAN_DETAILS, "target_tier": {"name": "4539578763621486"}},
    ),
    # An IBAN written in the masked IBAN's place: the sentence is masked whole, in each language.
    "iban_in_masked_field": _row(
        details={"kind": "iban_change", "iban_masked": "FR7630006000011234567890189"}
    ),
}


# ruff: noqa: E501 (the pinned texts are kept whole, as the statement receives them)
# name: (customer JSON, payload JSON, notes JSON), as the code before 2026-12-06 wrote them,
# but for the customer JSON of a reference holding an IBAN or a card number: masked since
# 2026-12-06, as the payload beside it always was
PINNED = {
    "iban_change": (
        '{"backoffice_id":"shop-101","zuora_account_id":"A00000101"}',
        '{"type":"change_request.filed","timestamp":"2026-12-06T03:21:01.552331Z","data":{"subject":{"type":"change_request","id":"e48771ca-dd85-43e8-8d95-78365c7f55ae","url":"/v1/change-requests/e48771ca-dd85-43e8-8d95-78365c7f55ae"},"sequence":0,"ticket":"zendesk:t1r123n45","ticket_display":"zendesk #t1r123n45","helpdesk_status":"new","note":"The bank details change for account A00000101 (IBAN FR****0189) was filed; it waits in Triage for a specialist.","status":"new","kind":"iban_change","customer":{"backoffice_id":"shop-101","zuora_account_id":"A00000101"},"assignee":null,"iban":{"country":"FR","last4":"0189","masked":"FR****0189"},"targets":["stripe_customer_debit","zuora_collection"]}}',
        '{"fr":"La demande de changement de coordonnées bancaires pour le compte A00000101 (IBAN FR****0189) a été déposée ; elle attend dans le tri qu\'un spécialiste la prenne.","ar":"قُدّم طلب تغيير البيانات البنكية بخصوص الحساب A00000101 (آيبان FR****0189)، وهو ينتظر في قائمة الفرز أن يتولاه أحد الأخصائيين."}',
    ),
    "plan_change": (
        '{"backoffice_id":"shop-102","stripe_customer_id":"cus_Demo1"}',
        '{"type":"change_request.filed","timestamp":"2026-12-06T03:21:01.552331Z","data":{"subject":{"type":"change_request","id":"e48771ca-dd85-43e8-8d95-78365c7f55ae","url":"/v1/change-requests/e48771ca-dd85-43e8-8d95-78365c7f55ae"},"sequence":0,"ticket":"intercom:abc","ticket_display":"intercom #abc","helpdesk_status":"new","note":"The plan change to team for Stripe customer cus_Demo1 was filed; it waits in Triage for a specialist.","status":"new","kind":"plan_change","customer":{"backoffice_id":"shop-102","stripe_customer_id":"cus_Demo1"},"assignee":null,"current_tier":"solo","target_tier":{"name":"team","min_seats":2,"max_seats":4,"monthly_price_minor":4900,"currency":"EUR"}}}',
        '{"fr":"La demande de changement d\'offre vers team pour le client Stripe cus_Demo1 a été déposée ; elle attend dans le tri qu\'un spécialiste la prenne.","ar":"قُدّم طلب تغيير الخطة إلى team بخصوص عميل Stripe cus_Demo1، وهو ينتظر في قائمة الفرز أن يتولاه أحد الأخصائيين."}',
    ),
    "plan_change_without_tier": (
        '{"backoffice_id":"shop-101","stripe_connect_account_id":"acct_1Nv0FGQ9RKHgCVdK"}',
        '{"type":"change_request.filed","timestamp":"2026-12-06T03:21:01.552331Z","data":{"subject":{"type":"change_request","id":"e48771ca-dd85-43e8-8d95-78365c7f55ae","url":"/v1/change-requests/e48771ca-dd85-43e8-8d95-78365c7f55ae"},"sequence":0,"ticket":"zendesk:t1r123n45","ticket_display":"zendesk #t1r123n45","helpdesk_status":"new","note":"The plan change for Stripe Connect account acct_1Nv0FGQ9RKHgCVdK was filed; it waits in Triage for a specialist.","status":"new","kind":"plan_change","customer":{"backoffice_id":"shop-101","stripe_connect_account_id":"acct_1Nv0FGQ9RKHgCVdK"},"assignee":null,"current_tier":"solo","target_tier":null}}',
        '{"fr":"La demande de changement d\'offre pour le compte Stripe Connect acct_1Nv0FGQ9RKHgCVdK a été déposée ; elle attend dans le tri qu\'un spécialiste la prenne.","ar":"قُدّم طلب تغيير الخطة بخصوص حساب Stripe Connect acct_1Nv0FGQ9RKHgCVdK، وهو ينتظر في قائمة الفرز أن يتولاه أحد الأخصائيين."}',
    ),
    "no_reference": (
        None,
        '{"type":"change_request.filed","timestamp":"2026-12-06T03:21:01.552331Z","data":{"subject":{"type":"change_request","id":"e48771ca-dd85-43e8-8d95-78365c7f55ae","url":"/v1/change-requests/e48771ca-dd85-43e8-8d95-78365c7f55ae"},"sequence":0,"ticket":null,"ticket_display":null,"helpdesk_status":"new","note":"The bank details change for the customer (IBAN FR****0189) was filed; it waits in Triage for a specialist.","status":"new","kind":"iban_change","customer":{},"assignee":null,"iban":{"country":"FR","last4":"0189","masked":"FR****0189"},"targets":["stripe_customer_debit","zuora_collection"]}}',
        '{"fr":"La demande de changement de coordonnées bancaires pour le client (IBAN FR****0189) a été déposée ; elle attend dans le tri qu\'un spécialiste la prenne.","ar":"قُدّم طلب تغيير البيانات البنكية بخصوص العميل (آيبان FR****0189)، وهو ينتظر في قائمة الفرز أن يتولاه أحد الأخصائيين."}',
    ),
    "iban_in_reference": (
        '{"backoffice_id":"shop-101","zuora_account_id":"DE****3000"}',
        '{"type":"change_request.filed","timestamp":"2026-12-06T03:21:01.552331Z","data":{"subject":{"type":"change_request","id":"e48771ca-dd85-43e8-8d95-78365c7f55ae","url":"/v1/change-requests/e48771ca-dd85-43e8-8d95-78365c7f55ae"},"sequence":0,"ticket":"zendesk:t1r123n45","ticket_display":"zendesk #t1r123n45","helpdesk_status":"new","note":"The bank details change for account DE****3000 (IBAN FR****0189) was filed; it waits in Triage for a specialist.","status":"new","kind":"iban_change","customer":{"backoffice_id":"shop-101","zuora_account_id":"DE****3000"},"assignee":null,"iban":{"country":"FR","last4":"0189","masked":"FR****0189"},"targets":["stripe_customer_debit","zuora_collection"]}}',
        '{"fr":"La demande de changement de coordonnées bancaires pour le compte DE****3000 (IBAN FR****0189) a été déposée ; elle attend dans le tri qu\'un spécialiste la prenne.","ar":"قُدّم طلب تغيير البيانات البنكية بخصوص الحساب DE****3000 (آيبان FR****0189)، وهو ينتظر في قائمة الفرز أن يتولاه أحد الأخصائيين."}',
    ),
    "card_in_reference": (
        '{"backoffice_id":"[card ****1486]"}',
        '{"type":"change_request.filed","timestamp":"2026-12-06T03:21:01.552331Z","data":{"subject":{"type":"change_request","id":"e48771ca-dd85-43e8-8d95-78365c7f55ae","url":"/v1/change-requests/e48771ca-dd85-43e8-8d95-78365c7f55ae"},"sequence":0,"ticket":"zendesk:t1r123n45","ticket_display":"zendesk #t1r123n45","helpdesk_status":"new","note":"The plan change to [card ****1486] for customer [card ****1486] was filed; it waits in Triage for a specialist.","status":"new","kind":"plan_change","customer":{"backoffice_id":"[card ****1486]"},"assignee":null,"current_tier":"solo","target_tier":{"name":"[card ****1486]"}}}',
        '{"fr":"La demande de changement d\'offre vers [card ****1486] pour le client [card ****1486] a été déposée ; elle attend dans le tri qu\'un spécialiste la prenne.","ar":"قُدّم طلب تغيير الخطة إلى [card ****1486] بخصوص العميل [card ****1486]، وهو ينتظر في قائمة الفرز أن يتولاه أحد الأخصائيين."}',
    ),
    "iban_in_masked_field": (
        '{"backoffice_id":"shop-101","zuora_account_id":"A00000101"}',
        '{"type":"change_request.filed","timestamp":"2026-12-06T03:21:01.552331Z","data":{"subject":{"type":"change_request","id":"e48771ca-dd85-43e8-8d95-78365c7f55ae","url":"/v1/change-requests/e48771ca-dd85-43e8-8d95-78365c7f55ae"},"sequence":0,"ticket":"zendesk:t1r123n45","ticket_display":"zendesk #t1r123n45","helpdesk_status":"new","note":"The bank details change for account A00000101 (IBAN FR****0189) was filed; it waits in Triage for a specialist.","status":"new","kind":"iban_change","customer":{"backoffice_id":"shop-101","zuora_account_id":"A00000101"},"assignee":null,"iban":{"country":null,"last4":"0189","masked":"FR****0189"},"targets":[]}}',
        '{"fr":"La demande de changement de coordonnées bancaires pour le compte A00000101 (IBAN FR****0189) a été déposée ; elle attend dans le tri qu\'un spécialiste la prenne.","ar":"قُدّم طلب تغيير البيانات البنكية بخصوص الحساب A00000101 (آيبان FR****0189)، وهو ينتظر في قائمة الفرز أن يتولاه أحد الأخصائيين."}',
    ),
}


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """The event's id and time, fixed: everything else the statement receives is the row's."""
    from gateway.notifications import outbox

    class FixedClock(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            return FILED_AT

    monkeypatch.setattr(outbox, "datetime", FixedClock)
    monkeypatch.setattr(uuid, "uuid4", lambda: EVENT_ID)


@pytest.mark.parametrize("name", sorted(ROWS))
async def test_the_filed_event_is_written_byte_for_byte_as_before(frozen: None, name: str) -> None:
    customer, payload, notes = PINNED[name]
    row = ROWS[name]

    values = await filed_event_values(dict(row))

    assert values == [
        EVENT_ID,
        "change_request.filed",
        "change_request",
        str(row["id"]),
        "test-tool",
        customer,
        payload,
        FILED_AT,
        notes,
    ]
    assert all(type(text) is str for text in (*values[1:7], values[8]) if text is not None)


async def test_the_same_row_filed_twice_gives_the_same_bytes(frozen: None) -> None:
    """Nothing a first filing computed and kept changes what a second one writes."""
    first = await filed_event_values(dict(ROWS["iban_change"]))
    second = await filed_event_values(dict(ROWS["iban_in_reference"]))
    third = await filed_event_values(dict(ROWS["iban_change"]))
    assert first == third and second[6] == PINNED["iban_in_reference"][1]


async def test_a_row_no_one_has_touched_asks_no_one_for_staff_names(
    frozen: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gateway.change_requests import notification_events

    async def no_query(ids: list[int | None]) -> dict[int, Any]:
        raise AssertionError(f"staff names read for {ids}")

    monkeypatch.setattr(notification_events, "staff_names", no_query)
    values = await filed_event_values(dict(ROWS["iban_change"]))
    assert values[6] == PINNED["iban_change"][1]
    with pytest.raises(AssertionError, match="staff names read"):
        await filed_event_values(_row(assignee_id=0))  # an id, though falsy, is looked up


@pytest.mark.parametrize(
    "moment",
    [
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        datetime(2026, 12, 6, 3, 21, 1, tzinfo=UTC),  # no fraction
        datetime(4539, 5, 7, 8, 7, 6, 362148, tzinfo=UTC),
    ],
)
def test_the_event_time_written_in_unmasked_cannot_hold_a_card_or_an_iban(
    moment: datetime,
) -> None:
    """build_payload writes the time in after masking: its digits come in runs of 8 at most."""
    from gateway.core.sensitive import redact_text
    from gateway.notifications.events import EventType
    from gateway.notifications.outbox import build_payload

    payload = build_payload(
        EventType.CHANGE_REQUEST_FILED,
        subject_type="change_request",
        subject_id="x",
        sequence=0,
        occurred_at=moment,
        data={},
    )
    assert redact_text(payload["timestamp"]) == payload["timestamp"]
    assert payload["timestamp"].endswith("Z") and len(payload["timestamp"]) in (20, 27)
