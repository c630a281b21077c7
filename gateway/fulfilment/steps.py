"""One function per operation of a plan, over the provider-neutral ports. The only place the
IBAN is decrypted: right before the one call that sends it, and never kept.

A step gets the ids an earlier step made (the new method's id feeds "make it the default"),
calls its port with the step's own idempotency key, and returns what it made or changed as
provider ids plus masked before/after states for the audit trail and the reviewer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from adapters.ports import (
    AccountLookup,
    NewBankAccount,
    NewSepaMethod,
    PaymentMethods,
    PayoutAccounts,
    Proration,
    QuantityChange,
    Subscriptions,
)
from gateway.core.errors import BillingError, ErrorCode
from gateway.fulfilment.plan import FROM_STEP


def mask_id(provider_id: str | None) -> str | None:
    """`pm_1Nx…1234`-style: enough to find the object in the console, not to copy a list."""
    if not provider_id:
        return None
    head = provider_id[: provider_id.index("_") + 1] if "_" in provider_id else provider_id[:4]
    return f"{head}…{provider_id[-4:]}" if len(provider_id) > len(head) + 4 else provider_id


@dataclass(frozen=True)
class StepCall:
    request_id: str
    target: str
    provider: str
    operation: str
    inputs: Mapping[str, Any]
    idempotency_key: str
    earlier_results: Mapping[int, Mapping[str, Any]]  # result of each earlier step, by position
    # False only when no earlier attempt can exist (the step's first call in the request's
    # first run): an adapter may then skip its look-up for one before a create.
    resumed: bool = True


@dataclass(frozen=True)
class StepOutcome:
    result: dict[str, Any]  # provider ids (not secret): later steps and look-ups use them
    before: dict[str, Any]  # masked
    after: dict[str, Any]  # masked


Decrypt = Callable[[], str]  # the request's IBAN, compact; called only when it is sent


async def run_step(adapter: Any, call: StepCall, iban: Decrypt) -> StepOutcome:
    operation = _OPERATIONS.get(call.operation)
    if operation is None:
        raise BillingError(ErrorCode.INTERNAL_ERROR, f"No step knows {call.operation!r}.")
    return await operation(adapter, call, iban)


def _port(adapter: Any, port: type, provider: str) -> Any:
    if not isinstance(adapter, port):
        raise BillingError(
            ErrorCode.PROVIDER_NOT_CONFIGURED,
            f"The {provider} adapter cannot do this step; it needs {port.__name__}.",
        )
    return adapter


def _created_id(call: StepCall) -> str:
    position = int(call.inputs[FROM_STEP])
    made = call.earlier_results.get(position, {}).get("created_id")
    if not made:
        raise BillingError(
            ErrorCode.INTERNAL_ERROR,
            f"Step {position} left no new method or bank account id for this step. If step "
            f"{position} was done by hand, settle this one by hand too, or settle step "
            f"{position} again giving the id it made.",
        )
    return str(made)


async def _create_sepa_method(adapter: Any, call: StepCall, iban: Decrypt) -> StepOutcome:
    port = cast(PaymentMethods, _port(adapter, PaymentMethods, call.provider))
    inputs = call.inputs
    method = await port.create_sepa_payment_method(
        str(inputs["account_id"]),
        NewSepaMethod(
            iban=iban(),
            holder=str(inputs["holder"]),
            email=inputs.get("email"),
            mandate_id=str(inputs["mandate_id"]),
            mandate_signed_on=date.fromisoformat(str(inputs["mandate_signed_on"])),
            bic=inputs.get("bic"),
            bank_name=inputs.get("bank_name"),
            change_request_id=call.request_id,
        ),
        idempotency_key=call.idempotency_key,
        resumed=call.resumed,
    )
    return StepOutcome(
        result={"created_id": method.id, "mandate_id": inputs["mandate_id"]},
        before={},
        after={"method": mask_id(method.id), "masked": method.masked, "kind": method.kind},
    )


async def _set_default_method(adapter: Any, call: StepCall, iban: Decrypt) -> StepOutcome:
    port = cast(PaymentMethods, _port(adapter, PaymentMethods, call.provider))
    new_id = _created_id(call)
    await port.set_default_payment_method(
        str(call.inputs["account_id"]), new_id, idempotency_key=call.idempotency_key
    )
    return StepOutcome(
        result={"default_id": new_id},
        before={"default_method": mask_id(call.inputs.get("previous_default_id"))},
        after={"default_method": mask_id(new_id)},
    )


async def _close_method(adapter: Any, call: StepCall, iban: Decrypt) -> StepOutcome:
    port = cast(PaymentMethods, _port(adapter, PaymentMethods, call.provider))
    old_id = str(call.inputs["method_id"])
    await port.close_payment_method(old_id, idempotency_key=call.idempotency_key)
    return StepOutcome(
        result={"closed_id": old_id},
        before={"method": mask_id(old_id), "active": True},
        after={"method": mask_id(old_id), "active": False},
    )


async def _add_payout_account(adapter: Any, call: StepCall, iban: Decrypt) -> StepOutcome:
    port = cast(PayoutAccounts, _port(adapter, PayoutAccounts, call.provider))
    account_id = str(call.inputs["account_id"])
    partner = await port.find_connected_account(AccountLookup(id=account_id))
    currency = ((partner.default_currency if partner else None) or "eur").upper()
    bank = await port.add_payout_account(
        account_id,
        NewBankAccount(iban=iban(), holder=str(call.inputs["holder"]), currency=currency),
        idempotency_key=call.idempotency_key,
    )
    return StepOutcome(
        result={"created_id": bank.id},
        before={},
        after={"bank_account": mask_id(bank.id), "masked": bank.masked, "currency": currency},
    )


async def _default_payout_account(adapter: Any, call: StepCall, iban: Decrypt) -> StepOutcome:
    port = cast(PayoutAccounts, _port(adapter, PayoutAccounts, call.provider))
    new_id = _created_id(call)
    await port.make_default_payout_account(
        str(call.inputs["account_id"]), new_id, idempotency_key=call.idempotency_key
    )
    return StepOutcome(
        result={"default_id": new_id},
        before={"default_bank_account": mask_id(call.inputs.get("previous_default_id"))},
        after={"default_bank_account": mask_id(new_id)},
    )


async def _remove_payout_account(adapter: Any, call: StepCall, iban: Decrypt) -> StepOutcome:
    port = cast(PayoutAccounts, _port(adapter, PayoutAccounts, call.provider))
    old_id = str(call.inputs["method_id"])
    await port.remove_payout_account(
        str(call.inputs["account_id"]), old_id, idempotency_key=call.idempotency_key
    )
    return StepOutcome(
        result={"removed_id": old_id},
        before={"bank_account": mask_id(old_id), "present": True},
        after={"bank_account": mask_id(old_id), "present": False},
    )


async def _change_quantity(adapter: Any, call: StepCall, iban: Decrypt) -> StepOutcome:
    port = cast(Subscriptions, _port(adapter, Subscriptions, call.provider))
    inputs = call.inputs
    change = QuantityChange(
        subscription_id=str(inputs["subscription_id"]),
        charge_id=str(inputs["charge_id"]),
        quantity=int(inputs["quantity"]),
        effective_on=date.fromisoformat(str(inputs["effective_on"])),
        proration=cast(Proration, inputs["proration"]),
        proration_date=inputs.get("proration_date"),
    )
    subscription = await port.apply_quantity_change(change, idempotency_key=call.idempotency_key)
    charge = next((c for c in subscription.charges if c.id == change.charge_id), None)
    if charge is not None and charge.quantity != change.quantity:
        # The provider took the call yet shows another quantity: never recorded as done.
        raise BillingError(
            ErrorCode.PROVIDER_REJECTED,
            f"{call.provider.capitalize()} accepted the seat change but still shows "
            f"{charge.quantity} seats instead of {change.quantity}; check the subscription "
            "there before retrying.",
        )
    return StepOutcome(
        result={
            "subscription_id": subscription.id,
            "version": subscription.version,
            "charge_id": change.charge_id,
        },
        before={"quantity": inputs.get("quantity_before")},
        after={
            "quantity": charge.quantity if charge else change.quantity,
            "effective_on": change.effective_on.isoformat(),
            "proration": change.proration,
        },
    )


_OPERATIONS: dict[str, Callable[[Any, StepCall, Decrypt], Awaitable[StepOutcome]]] = {
    "create_sepa_method": _create_sepa_method,
    "set_default_method": _set_default_method,
    "close_method": _close_method,
    "add_payout_account": _add_payout_account,
    "default_payout_account": _default_payout_account,
    "remove_payout_account": _remove_payout_account,
    "change_quantity": _change_quantity,
}
