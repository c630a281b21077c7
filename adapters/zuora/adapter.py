"""ZuoraAdapter: the provider-neutral ports over Zuora's SOAP API.

The IBAN change, as a careful specialist does it in Zuora: create a payment method of type bank
transfer, SEPA, with the holder and mandate; make it the account's default; close the old one
(the default cannot be closed before it is switched). Each step can be repeated safely: the new
method carries the gateway's mandate reference, so a create whose answer was lost is found again
instead of made twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adapters.ports import (
    Account,
    AccountLookup,
    Collection,
    NewSepaMethod,
    PaymentMethod,
)
from adapters.zuora.errors import from_zuora_error
from adapters.zuora.mapping import (
    ACCOUNT_FIELDS,
    IN_FLIGHT_STATUSES,
    PAYMENT_FIELDS,
    PAYMENT_METHOD_FIELDS,
    from_zuora_account,
    from_zuora_payment,
    from_zuora_payment_method,
    zoql_text,
)
from adapters.zuora.soap_session import UnknownOutcomeError, ZuoraSoap

CREATE_ATTEMPTS = 3


class ZuoraAdapter:
    provider = "zuora"

    def __init__(self, soap: ZuoraSoap) -> None:
        self._soap = soap

    # -- accounts ------------------------------------------------------------------------------

    async def find_account(self, lookup: AccountLookup) -> Account | None:
        conditions = [
            f"{name} = {zoql_text(value)}"
            for name, value in (
                ("Id", lookup.id),
                ("AccountNumber", lookup.number),
                ("Name", lookup.company_name),
            )
            if value
        ]
        if not conditions:
            return None
        records = await self._query(
            f"select {ACCOUNT_FIELDS} from Account where {' and '.join(conditions)}",
            "looking up the account",
        )
        return from_zuora_account(records[0]) if len(records) == 1 else None

    # -- payment methods -----------------------------------------------------------------------

    async def list_payment_methods(self, account_id: str) -> Sequence[PaymentMethod]:
        account = await self._account(account_id)
        records = await self._query(
            f"select {PAYMENT_METHOD_FIELDS} from PaymentMethod"
            f" where AccountId = {zoql_text(account_id)}",
            "listing payment methods",
        )
        return [
            from_zuora_payment_method(record, account.default_payment_method_id)
            for record in records
        ]

    async def create_sepa_payment_method(
        self, account_id: str, method: NewSepaMethod, *, idempotency_key: str
    ) -> PaymentMethod:
        """`idempotency_key` documents the step; Zuora SOAP has none, so the mandate reference
        (unique per change, set by the caller) is what finds an earlier attempt."""
        account = await self._account(account_id)
        step = "creating the SEPA payment method"
        for _ in range(CREATE_ATTEMPTS):
            earlier = await self._by_mandate(account_id, method.mandate_id)
            if earlier is not None:
                return from_zuora_payment_method(earlier, account.default_payment_method_id)
            try:
                results = await self._soap.call(
                    "create", step, repeatable=False, zObjects=[self._sepa(account_id, method)]
                )
            except UnknownOutcomeError:
                continue  # it may have been made: look again before another create
            await self._saved(results, step)
        found = await self._by_mandate(account_id, method.mandate_id)
        if found is None:
            raise from_zuora_error("SERVER_UNAVAILABLE", step)
        return from_zuora_payment_method(found, account.default_payment_method_id)

    def _sepa(self, account_id: str, method: NewSepaMethod) -> Any:
        return self._soap.make(
            "PaymentMethod",
            AccountId=account_id,
            Type="BankTransfer",
            BankTransferType="SEPA",
            IBAN=method.iban,
            BankTransferAccountName=method.holder,
            Email=method.email,
            BusinessIdentificationCode=method.bic,
            Country=method.iban[:2],
            MandateID=method.mandate_id,
            MandateReceived="Yes",
            MandateCreationDate=method.mandate_signed_on,
            ExistingMandate="No",
        )

    async def set_default_payment_method(
        self, account_id: str, payment_method_id: str, *, idempotency_key: str
    ) -> None:
        step = "making the new payment method the account's default"
        account = self._soap.make(
            "Account", Id=account_id, DefaultPaymentMethodId=payment_method_id
        )
        await self._saved(await self._soap.call("update", step, zObjects=[account]), step)

    async def close_payment_method(self, payment_method_id: str, *, idempotency_key: str) -> None:
        step = "closing the old payment method"
        closed = self._soap.make(
            "PaymentMethod", Id=payment_method_id, PaymentMethodStatus="Closed"
        )
        await self._saved(await self._soap.call("update", step, zObjects=[closed]), step)

    # -- collections ---------------------------------------------------------------------------

    async def collections_in_flight(self, account_id: str) -> Sequence[Collection]:
        account = await self._account(account_id)
        statuses = " or ".join(f"Status = {zoql_text(status)}" for status in IN_FLIGHT_STATUSES)
        records = await self._query(
            f"select {PAYMENT_FIELDS} from Payment where AccountId = {zoql_text(account_id)}"
            f" and {statuses}",
            "looking for collections in flight",
        )
        return [from_zuora_payment(record, account.currency) for record in records]

    # -- helpers -------------------------------------------------------------------------------

    async def _account(self, account_id: str) -> Account:
        account = await self.find_account(AccountLookup(id=account_id))
        if account is None:
            raise from_zuora_error("INVALID_ID", "looking up the account")
        return account

    async def _by_mandate(self, account_id: str, mandate_id: str) -> Any | None:
        records = await self._query(
            f"select {PAYMENT_METHOD_FIELDS} from PaymentMethod"
            f" where AccountId = {zoql_text(account_id)} and MandateID = {zoql_text(mandate_id)}",
            "looking for an earlier attempt",
        )
        return records[0] if records else None

    async def _query(self, zoql: str, step: str) -> list[Any]:
        result = await self._soap.call("query", step, queryString=zoql)
        records = list(result.records or [])
        while not result.done:
            result = await self._soap.call("queryMore", step, queryLocator=result.queryLocator)
            records += list(result.records or [])
        return records

    @staticmethod
    async def _saved(results: Any, step: str) -> str:
        [result] = results
        if not result.Success:
            raise from_zuora_error(str(result.Errors[0].Code), step)
        return str(result.Id)
