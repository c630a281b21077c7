"""What the billing corrections need from each transport, in its API's own words:

- reads of invoices, payments and refunds: ZOQL either way (`adapters.zuora.history`);
- an account's subscriptions with their current term: SOAP queries Subscription versions and
  their charges; REST lists `GET /v1/subscriptions/accounts/{key}`;
- cancelling a posted invoice, in Zuora's two steps: unpost it (back to Draft, which Zuora allows
  only while nothing is paid or credited on it), then cancel the draft. SOAP updates the
  Invoice's Status (Draft, then Canceled); REST calls `PUT /v1/invoices/{key}/unpost`, then
  `PUT /v1/invoices/{key}/cancel`.

Both transports keep their sessions, retries and call log; these classes only borrow them.
"""

from __future__ import annotations

from typing import Protocol

from adapters.ports import Subscription
from adapters.zuora.history import ZoqlHistory
from adapters.zuora.mapping import SUBSCRIPTION_FIELDS, zoql_text
from adapters.zuora.rest_mapping import from_rest_subscription
from adapters.zuora.rest_transport import PAGE_SIZE, RestTransport
from adapters.zuora.soap_transport import SoapTransport
from adapters.zuora.transport import ZuoraTransport


class ZuoraDialect(Protocol):
    history: ZoqlHistory

    async def subscriptions(self, account_id: str) -> list[Subscription]: ...

    async def unpost_invoice(self, invoice_id: str) -> None: ...

    async def cancel_invoice(self, invoice_id: str) -> None: ...


class SoapDialect:
    def __init__(self, transport: SoapTransport) -> None:
        self._transport = transport
        self.history = ZoqlHistory(transport._query)

    async def subscriptions(self, account_id: str) -> list[Subscription]:
        found = await self.history.account(account_id)
        if found is None:
            return []
        owner, currency = found
        versions = await self._transport._query(
            f"select {SUBSCRIPTION_FIELDS} from Subscription"
            f" where AccountId = {zoql_text(owner)} and Status != 'Expired'",
            "listing the subscriptions",
        )
        return [await self._transport._with_charges(version, currency) for version in versions]

    async def unpost_invoice(self, invoice_id: str) -> None:
        await self._status(invoice_id, "Draft", "unposting the invoice")

    async def cancel_invoice(self, invoice_id: str) -> None:
        await self._status(invoice_id, "Canceled", "cancelling the invoice")

    async def _status(self, invoice_id: str, status: str, step: str) -> None:
        soap = self._transport._soap
        change = soap.make("Invoice", Id=invoice_id, Status=status)
        await self._transport._saved(await soap.call("update", step, zObjects=[change]), step)


class RestDialect:
    def __init__(self, transport: RestTransport) -> None:
        self._rest = transport._rest
        self.history = ZoqlHistory(transport._query)

    async def subscriptions(self, account_id: str) -> list[Subscription]:
        found: list[Subscription] = []
        page = 1
        while True:  # in pages, as Zuora lists them
            answer = await self._rest.request(
                "GET",
                f"/v1/subscriptions/accounts/{account_id}",
                "listing the subscriptions",
                params={"page": page, "pageSize": PAGE_SIZE},
            )
            found += [
                from_rest_subscription(record) for record in answer.get("subscriptions") or []
            ]
            if not answer.get("nextPage"):
                return found
            page += 1

    async def unpost_invoice(self, invoice_id: str) -> None:
        await self._rest.request(
            "PUT", f"/v1/invoices/{invoice_id}/unpost", "unposting the invoice"
        )

    async def cancel_invoice(self, invoice_id: str) -> None:
        await self._rest.request(
            "PUT", f"/v1/invoices/{invoice_id}/cancel", "cancelling the invoice"
        )


def dialect_of(transport: ZuoraTransport) -> ZuoraDialect:
    if isinstance(transport, SoapTransport):
        return SoapDialect(transport)
    if isinstance(transport, RestTransport):
        return RestDialect(transport)
    raise TypeError(f"no billing corrections over {type(transport).__name__}")
