"""The JSON the emulator's REST face answers with, in Zuora's shapes: the envelope, refusals by
reason code, and a payment method as `GET /v1/accounts/{key}/payment-methods` lists it."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import msgspec

from adapters.zuora.emulator.state import ZObject, ZuoraError

# Zuora's SOAP-style codes as REST reason categories (the code's last two digits).
CATEGORY = {
    "INVALID_VALUE": 20,
    "MISSING_REQUIRED_VALUE": 22,
    "CANNOT_DELETE": 30,
    "DUPLICATE_VALUE": 30,
    "INVALID_ID": 40,
    "LOCK_COMPETITION": 50,
    "INVALID_LOGIN": 11,
    "INVALID_SESSION": 11,
    "MALFORMED_QUERY": 20,
    "INVALID_FIELD": 21,
    "INVALID_TYPE": 20,
}
STATUS_OF_CATEGORY = {11: 401, 20: 400, 21: 400, 22: 400, 40: 404, 50: 409, 90: 400}


@dataclass
class Answer:
    status: int
    body: bytes
    media_type: str = "application/json"
    committed: bool = False
    headers: dict[str, str] = field(default_factory=dict)


def reason_code(error: ZuoraError, resource: int = 500000) -> int:
    return resource * 100 + CATEGORY.get(error.code, 60)


# Amounts are Decimals written as exact JSON numbers (Zuora's own answers are decimal
# numbers; a float would turn 12.345 KWD into whatever binary holds); dates in ISO form.
_JSON = msgspec.json.Encoder(decimal_format="number")


def as_json(payload: Any, status: int = 200, *, committed: bool = False) -> Answer:
    return Answer(status, _JSON.encode(payload), committed=committed)


def money(value: Any) -> Decimal:
    return Decimal(str(value or 0))


def method_json(method: ZObject, account: ZObject, default: Any) -> dict[str, Any]:
    if method.get("Type") == "CreditCard":
        return card_json(method, default)
    return {
        "id": method["Id"],
        "type": method.get("Type"),
        "bankTransferType": method.get("BankTransferType"),
        "status": method.get("PaymentMethodStatus", "Active"),
        "isDefault": method["Id"] == default,
        "IBAN": method.get("BankTransferAccountNumberMask"),
        "businessIdentificationCode": method.get("BusinessIdentificationCode"),
        "accountHolderInfo": {
            "accountHolderName": method.get("BankTransferAccountName"),
            "email": method.get("Email"),
            "country": method.get("Country"),
        },
        "mandateInfo": {
            "mandateId": method.get("MandateID"),
            "mandateReceivedStatus": method.get("MandateReceived"),
            "mandateCreationDate": method.get("MandateCreationDate"),
            "existingMandateStatus": method.get("ExistingMandate"),
        },
        "createdDate": method.get("CreatedDate"),
    }


def card_json(method: ZObject, default: Any) -> dict[str, Any]:
    """A card in the `creditcard` group: masked, as Zuora lists it."""
    return {
        "id": method["Id"],
        "type": "CreditCard",
        "status": method.get("PaymentMethodStatus", "Active"),
        "isDefault": method["Id"] == default,
        "cardNumber": method.get("CreditCardMaskNumber"),
        "creditCardType": method.get("CreditCardType"),
        "expirationMonth": method.get("CreditCardExpirationMonth"),
        "expirationYear": method.get("CreditCardExpirationYear"),
        "accountHolderInfo": {"accountHolderName": method.get("CreditCardHolderName")},
        "createdDate": method.get("CreatedDate"),
    }
