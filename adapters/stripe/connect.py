"""The Stripe adapter's payout accounts for Connect partners ("Informations sur les
virements"): add the new bank account, make it the default for its currency, delete the old
one. The holder must be the partner's legal company name, not its shop's trading name: Stripe
would pay out to an account the partner's company does not own. Mixed into StripeAdapter."""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from adapters.ports import (
    AccountLookup,
    ConnectedAccount,
    NewBankAccount,
    PaymentMethod,
    Payout,
)
from adapters.stripe.calls import under_key
from adapters.stripe.client import derived_key
from adapters.stripe.mapping import plain
from adapters.stripe.units import from_stripe_amount
from gateway.core.errors import BillingError, ErrorCode


def _comparable(name: str | None) -> str:
    """Case, accents, punctuation and spacing aside: "Brasserie du Port S.A.S." is
    "BRASSERIE DU PORT SAS"."""
    text = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    return "".join(character for character in text.lower() if character.isalnum())


def from_stripe_account(stripe_account: Any) -> ConnectedAccount:
    account = plain(stripe_account)
    return ConnectedAccount(
        id=str(account["id"]),
        legal_name=(account.get("company") or {}).get("name"),
        trading_name=(account.get("business_profile") or {}).get("name"),
        country=account.get("country"),
        default_currency=account.get("default_currency"),
    )


def from_stripe_bank_account(stripe_bank: Any) -> PaymentMethod:
    bank = plain(stripe_bank)
    return PaymentMethod(
        id=str(bank["id"]),
        kind="bank_transfer",
        active=True,
        is_default=bool(bank.get("default_for_currency")),
        masked=f"{bank.get('country', '??')}****{bank.get('last4', '')}",
        holder=bank.get("account_holder_name"),
        bank_name=bank.get("bank_name"),
        created_at=datetime.fromtimestamp(int(bank["created"]), UTC) if "created" in bank else None,
        bank_code=bank.get("routing_number"),
        fingerprint=bank.get("fingerprint"),
    )


class StripeConnect:
    _stripe: Any
    _call: Callable[[str, Callable[[], Awaitable[Any]]], Awaitable[Any]]

    async def find_connected_account(self, lookup: AccountLookup) -> ConnectedAccount | None:
        step = "looking up the partner's account"
        if lookup.id:
            try:
                found = await self._call(
                    step, lambda: self._stripe.accounts.retrieve_async(lookup.id)
                )
            except BillingError as error:
                if error.code is ErrorCode.PROVIDER_NOT_FOUND:
                    return None
                raise
            return from_stripe_account(found)
        if not lookup.backoffice_id:
            return None
        accounts = await self._call(
            step, lambda: self._stripe.accounts.list_async(params={"limit": 100})
        )
        matches = [
            account
            async for account in accounts.auto_paging_iter()
            if (plain(account).get("metadata") or {}).get("backoffice_id") == lookup.backoffice_id
        ]
        return from_stripe_account(matches[0]) if len(matches) == 1 else None

    async def list_payout_accounts(self, account_id: str) -> Sequence[PaymentMethod]:
        banks = await self._call(
            "listing the partner's bank accounts",
            lambda: self._stripe.accounts.external_accounts.list_async(
                account_id, params={"limit": 100}
            ),
        )
        return [
            from_stripe_bank_account(bank)
            for bank in banks.data
            if plain(bank).get("object") == "bank_account"  # not the partner's debit cards
        ]

    @under_key
    async def add_payout_account(
        self, account_id: str, bank: NewBankAccount, *, idempotency_key: str
    ) -> PaymentMethod:
        partner = await self.find_connected_account(AccountLookup(id=account_id))
        if partner is None:
            raise BillingError(ErrorCode.PROVIDER_NOT_FOUND, f"Stripe has no account {account_id}.")
        if _comparable(bank.holder) != _comparable(partner.legal_name):
            trading = _comparable(bank.holder) == _comparable(partner.trading_name)
            raise BillingError(
                ErrorCode.HOLDER_NOT_LEGAL_NAME,
                f"The account holder must be the partner's legal company name "
                f"({partner.legal_name})"
                + (", not the shop's trading name." if trading else ".")
                + " Ask the partner for a bank account in the company's name.",
                extra={"legal_name": partner.legal_name},
            )
        created = await self._call(
            "adding the partner's bank account",
            lambda: self._stripe.accounts.external_accounts.create_async(
                account_id,
                params={
                    "external_account": {
                        "object": "bank_account",
                        "country": bank.iban[:2],
                        "currency": bank.currency.lower(),
                        "account_number": bank.iban,
                        "account_holder_name": bank.holder,
                        "account_holder_type": "company",
                    },
                },
                options={"idempotency_key": derived_key(idempotency_key, "external-account")},
            ),
        )
        return from_stripe_bank_account(created)

    @under_key
    async def make_default_payout_account(
        self, account_id: str, bank_account_id: str, *, idempotency_key: str
    ) -> None:
        await self._call(
            "making the new bank account the default for its currency",
            lambda: self._stripe.accounts.external_accounts.update_async(
                account_id,
                bank_account_id,
                params={"default_for_currency": True},
                options={"idempotency_key": derived_key(idempotency_key, "default-payout")},
            ),
        )

    @under_key
    async def remove_payout_account(
        self, account_id: str, bank_account_id: str, *, idempotency_key: str
    ) -> None:
        step = "deleting the old bank account"
        try:
            await self._call(
                step,
                lambda: self._stripe.accounts.external_accounts.delete_async(
                    account_id, bank_account_id
                ),
            )
        except BillingError as error:
            if error.code is ErrorCode.PROVIDER_NOT_FOUND:
                return  # deleted already: the step is done
            raise

    async def recent_payouts(self, account_id: str) -> Sequence[Payout]:
        """The partner's last payouts: a failed one after a bank change means the new account
        is wrong. Payouts are the connected account's own objects: read with Stripe-Account."""
        found = await self._call(
            "reading the partner's payouts",
            lambda: self._stripe.payouts.list_async(
                params={"limit": 10}, options={"stripe_account": account_id}
            ),
        )
        return [
            Payout(
                id=str(payout["id"]),
                amount=from_stripe_amount(int(payout["amount"]), str(payout["currency"])),
                status=str(payout["status"]),
                bank_account_id=payout.get("destination"),
                failure_code=payout.get("failure_code"),
            )
            for payout in (plain(item) for item in found.data)
        ]
