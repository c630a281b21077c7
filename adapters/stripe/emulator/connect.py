"""Connected accounts and their bank accounts for payouts, with Stripe's rules: a new bank
account can become the default for its currency (the previous default stops being it), and the
default for the account's default currency cannot be deleted."""

from __future__ import annotations

from typing import Any

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException

from adapters.stripe.emulator.state import StripeAccount, StripeError, StripeObject

Params = dict[str, Any]


class Connect:
    def __init__(self, account: StripeAccount) -> None:
        self.account = account

    def create_account(
        self,
        legal_name: str,
        trading_name: str,
        metadata: dict[str, str],
        object_id: str,
        email: str | None = None,
        address: dict[str, str] | None = None,
    ) -> StripeObject:
        return self.account.new(
            "acct",
            "account",
            {
                "type": "custom",
                "business_type": "company",
                "country": "FR",
                "default_currency": "eur",
                "company": {"name": legal_name, "address": address},
                "email": email,
                "business_profile": {"name": trading_name},
                "metadata": metadata,
                "payouts_enabled": True,
                "charges_enabled": True,
            },
            object_id,
        )

    def _banks(self, account_id: str) -> list[StripeObject]:
        return [bank for bank in self.account.all("bank_account") if bank["account"] == account_id]

    def retrieve_account(self, account_id: str) -> StripeObject:
        account = self.account.get("account", account_id, "account")
        banks = self._banks(account_id)
        return {
            **account,
            "external_accounts": {"object": "list", "data": banks, "has_more": False},
        }

    def list_banks(self, account_id: str) -> list[StripeObject]:
        self.account.get("account", account_id, "account")
        return self._banks(account_id)

    def add_bank(self, account_id: str, params: Params) -> StripeObject:
        self.account.get("account", account_id, "account")
        details = params.get("external_account")
        if not isinstance(details, dict) or details.get("object") != "bank_account":
            raise StripeError(
                400,
                "The emulator takes bank account details, not tokens.",
                param="external_account",
            )
        try:
            iban = IBAN(str(details.get("account_number") or ""))
        except SchwiftyException:
            raise StripeError(
                400,
                "The IBAN you provided is invalid.",
                code="invalid_bank_account_iban",
                param="external_account[account_number]",
            ) from None
        currency = str(details.get("currency") or "eur").lower()
        bank = self.account.new(
            "ba",
            "bank_account",
            {
                "account": account_id,
                "account_holder_name": details.get("account_holder_name"),
                "account_holder_type": details.get("account_holder_type") or "company",
                "country": iban.country_code,
                "currency": currency,
                "last4": iban.compact[-4:],
                "bank_name": None,
                "routing_number": iban.bank_code,
                "fingerprint": self.account.fingerprint(iban.compact),
                "default_for_currency": False,
                "status": "new",
                "metadata": params.get("metadata") or {},
                "_iban": iban.compact,
            },
        )
        first_of_currency = not any(
            other["currency"] == currency and other["id"] != bank["id"]
            for other in self._banks(account_id)
        )
        if str(params.get("default_for_currency")).lower() == "true" or first_of_currency:
            self._make_default(bank)
        return bank

    def update_bank(self, account_id: str, bank_id: str, params: Params) -> StripeObject:
        bank = self._bank(account_id, bank_id)
        if "default_for_currency" in params:
            if str(params["default_for_currency"]).lower() != "true":
                raise StripeError(
                    400,
                    "default_for_currency can only be set to true: make another external "
                    "account the default instead.",
                    param="default_for_currency",
                )
            self._make_default(bank)
        if "account_holder_name" in params:
            bank["account_holder_name"] = params["account_holder_name"]
        return bank

    def delete_bank(self, account_id: str, bank_id: str) -> StripeObject:
        bank = self._bank(account_id, bank_id)
        account = self.account.get("account", account_id, "account")
        others = [
            other
            for other in self._banks(account_id)
            if other["currency"] == bank["currency"] and other["id"] != bank_id
        ]
        # Stripe's rule: the default for a currency goes only when it is the last account in
        # that currency, and never for the account's default currency.
        if bank["default_for_currency"] and (
            others or bank["currency"] == account["default_currency"]
        ):
            raise StripeError(
                400,
                "You cannot delete the default external account for its currency. "
                "Please make another external account the default using the "
                "`default_for_currency` param, and then delete this one.",
                param="id",
            )
        del self.account.objects[bank_id]
        return {"id": bank_id, "object": "bank_account", "deleted": True}

    def _bank(self, account_id: str, bank_id: str) -> StripeObject:
        bank = self.account.get("bank_account", bank_id)
        if bank["account"] != account_id:
            raise StripeError(
                404, f"No such external account: '{bank_id}'", code="resource_missing"
            )
        return bank

    def _make_default(self, bank: StripeObject) -> None:
        for other in self._banks(bank["account"]):
            if other["currency"] == bank["currency"]:
                other["default_for_currency"] = other["id"] == bank["id"]

    # -- payouts (read with the Stripe-Account header: they are the connected account's) ------

    def create_payout(self, account_id: str, amount: int, bank_id: str) -> StripeObject:
        self._bank(account_id, bank_id)
        return self.account.new(
            "po",
            "payout",
            {
                "_account": account_id,
                "amount": amount,
                "currency": "eur",
                "destination": bank_id,
                "status": "in_transit",
                "failure_code": None,
                "failure_message": None,
                "arrival_date": None,
                "method": "standard",
                "type": "bank_account",
            },
        )

    def fail_payout(self, payout_id: str, code: str = "account_closed") -> StripeObject:
        """What the bank does to a payout sent to a closed account; Stripe tells the platform."""
        payout = self.account.get("payout", payout_id)
        payout["status"] = "failed"
        payout["failure_code"] = code
        payout["failure_message"] = "The bank account has been closed."
        event = self.account.emit("payout.failed", payout)
        event["account"] = payout["_account"]  # a Connect event names its account
        return payout

    def payout(self, account_id: str | None, payout_id: str) -> StripeObject:
        """`GET /v1/payouts/{id}`: with Stripe-Account, only that account's payout."""
        payout = self.account.get("payout", payout_id)
        if account_id is not None and payout["_account"] != account_id:
            raise StripeError(404, f"No such payout: '{payout_id}'", code="resource_missing")
        return payout

    def payouts(self, account_id: str | None, params: Params) -> list[StripeObject]:
        if account_id is None:
            raise StripeError(
                400, "The emulator keeps payouts on connected accounts: send Stripe-Account."
            )
        return [
            payout
            for payout in self.account.all("payout")
            if payout["_account"] == account_id and params.get("status") in (None, payout["status"])
        ]
