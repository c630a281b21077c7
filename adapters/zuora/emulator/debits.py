"""A SEPA direct debit being collected: what Zuora shows while a payment run's debit waits for
the bank. The Payment is `Processing` with GatewayState `Submitted` (queryable over ZOQL and in
`GET /v1/payments`), and its PaymentRun is `Processing` (`GET /v1/payment-runs`, REST only).
Settling it marks the payment Processed / Settled and the run Completed.

Changing the bank details while a debit is in flight makes the debit fail at the bank: this is
the state the gateway's pre-check must find before it applies an IBAN change.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from adapters.money import from_minor_units
from adapters.zuora.emulator.callouts import announce
from adapters.zuora.emulator.rest_shapes import Answer, as_json, money
from adapters.zuora.emulator.state import Tenant, ZObject, ZuoraError

IN_FLIGHT_RUN_STATUSES = ("Pending", "Processing")
PAGE_SIZE_LIMIT = 40  # Zuora's largest page for payment runs


@dataclass(frozen=True)
class DebitInFlight:
    payment_id: str
    payment_run_id: str
    payment_run_number: str


def find_account(tenant: Tenant, key: str) -> ZObject:
    for account in tenant.table("Account").values():
        if key in (account["Id"], account.get("AccountNumber")):
            return account
    raise ZuoraError("INVALID_ID", f"Cannot find entity by key: '{key}'.")


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def start_debit(
    tenant: Tenant,
    account_key: str,
    amount_minor: int,
    currency: str | None = None,
    *,
    run_status: str = "Processing",
    on: date | None = None,
) -> DebitInFlight:
    """A payment run collecting `amount_minor` from the account's default method."""
    account = find_account(tenant, account_key)
    if currency and currency.upper() != account.get("Currency"):
        raise ZuoraError(
            "INVALID_VALUE",
            f"The account bills in {account.get('Currency')}, not {currency.upper()}.",
        )
    if amount_minor <= 0:
        raise ZuoraError("INVALID_VALUE", "The amount must be positive.")
    if run_status not in IN_FLIGHT_RUN_STATUSES:
        statuses = " or ".join(IN_FLIGHT_RUN_STATUSES)
        raise ZuoraError("INVALID_VALUE", f"A payment run in flight is {statuses}.")
    method_id = account.get("DefaultPaymentMethodId")
    if not method_id:
        raise ZuoraError("INVALID_VALUE", "The account has no default payment method to debit.")
    today = (on or date.today()).isoformat()
    number = f"PR-{len(tenant.table('PaymentRun')) + 1:08d}"
    run_id = tenant.create(
        "PaymentRun",
        {
            "AccountId": account["Id"],
            "Number": number,
            "Status": run_status,
            "TargetDate": today,
            "RunDate": _now(),
            "CreatedDate": _now(),
            "CollectPayment": True,
        },
    )
    payment_id = tenant.create(
        "Payment",
        {
            "AccountId": account["Id"],
            "Amount": str(from_minor_units(amount_minor, str(account["Currency"]))),
            "Status": "Processing",
            "GatewayState": "Submitted",
            "PaymentMethodId": method_id,
            "EffectiveDate": today,
            "SubmittedOn": _now(),
            "Type": "Electronic",
            "Source": "PaymentRun",
            "SourceName": number,
            "PaymentNumber": f"P-{len(tenant.table('Payment')) + 1:08d}",
        },
    )
    return DebitInFlight(payment_id, run_id, number)


def settle_debits(tenant: Tenant, account_key: str | None = None) -> int:
    """The bank confirmed: every debit in flight (of one account, or all) is settled."""
    account_id = find_account(tenant, account_key)["Id"] if account_key else None
    settled = 0
    for payment in tenant.table("Payment").values():
        if payment.get("GatewayState") != "Submitted":
            continue
        if account_id not in (None, payment.get("AccountId")):
            continue
        payment.update(Status="Processed", GatewayState="Settled", SettledOn=_now())
        announce(tenant, "Payment", payment)  # the PaymentProcessed callout
        settled += 1
    for run in tenant.table("PaymentRun").values():
        if run.get("Status") in IN_FLIGHT_RUN_STATUSES and account_id in (
            None,
            run.get("AccountId"),
        ):
            run.update(Status="Completed", CompletedOn=_now())
    return settled


# -- REST: /v1/payment-runs ----------------------------------------------------------------------


def _run_json(run: ZObject) -> dict[str, Any]:
    return {
        "id": run["Id"],
        "number": run.get("Number"),
        "status": run.get("Status"),
        "accountId": run.get("AccountId"),
        "targetDate": run.get("TargetDate"),
        "runDate": run.get("RunDate"),
        "createdDate": run.get("CreatedDate"),
        "completedOn": run.get("CompletedOn"),
        "collectPayment": bool(run.get("CollectPayment", True)),
        "consolidatedPayment": False,
        "processPaymentWithClosedPM": False,
    }


def _find_run(tenant: Tenant, key: str) -> ZObject:
    for run in tenant.table("PaymentRun").values():
        if key in (run["Id"], run.get("Number")):
            return run
    raise ZuoraError("INVALID_ID", f"Cannot find entity by key: '{key}'.")


def _list_runs(tenant: Tenant, *, params: dict[str, str], **_: Any) -> Answer:
    runs = [
        run
        for run in sorted(tenant.table("PaymentRun").values(), key=lambda r: str(r.get("Number")))
        if params.get("status") in (None, run.get("Status"))
        and params.get("targetDate") in (None, run.get("TargetDate"))
    ]
    size = max(1, min(int(params.get("pageSize", "20")), PAGE_SIZE_LIMIT))
    page = max(1, int(params.get("page", "1")))
    answer: dict[str, Any] = {
        "paymentRuns": [_run_json(run) for run in runs[(page - 1) * size : page * size]],
        "success": True,
    }
    if page * size < len(runs):
        status = f"status={params['status']}&" if params.get("status") else ""
        answer["nextPage"] = f"/v1/payment-runs?{status}page={page + 1}&pageSize={size}"
    return as_json(answer)


def _run_data(tenant: Tenant, key: str, **_: Any) -> Answer:
    run = _find_run(tenant, key)
    payments = [
        p for p in tenant.table("Payment").values() if p.get("SourceName") == run.get("Number")
    ]
    data = []
    for payment in payments:
        account = tenant.table("Account").get(str(payment.get("AccountId")), {})
        collected = payment.get("GatewayState") == "Settled"
        data.append(
            {
                "accountId": payment.get("AccountId"),
                "accountNumber": account.get("AccountNumber"),
                "currency": account.get("Currency"),
                "amount": money(payment.get("Amount")),
                "amountToCollect": money(payment.get("Amount")),
                "amountCollected": money(payment.get("Amount")) if collected else 0,
                "paymentMethodId": payment.get("PaymentMethodId"),
                "result": "Processed",
                "transactions": [
                    {"id": payment["Id"], "type": "Payment", "status": payment.get("Status")}
                ],
            }
        )
    return as_json({"data": data, "success": True})


Route = Callable[..., Answer]


def payment_run_routes(tenant: Tenant) -> list[tuple[str, re.Pattern[str], Route]]:
    def one(key: str, **_: Any) -> Answer:
        return as_json({**_run_json(_find_run(tenant, key)), "success": True})

    def listed(**arguments: Any) -> Answer:
        return _list_runs(tenant, **arguments)

    def data(key: str, **arguments: Any) -> Answer:
        return _run_data(tenant, key, **arguments)

    return [
        ("GET", re.compile(r"/v1/payment-runs"), listed),
        ("GET", re.compile(r"/v1/payment-runs/([^/]+)"), one),
        ("GET", re.compile(r"/v1/payment-runs/([^/]+)/data"), data),
    ]
