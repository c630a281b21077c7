"""What the emulator's REST face accepts in a request body: the fields of Zuora's own request
models (zuora-sdk 3.21.0, generated from Zuora's API description) for the writes the gateway
makes, and the rules Zuora states for them.

Zuora drops an unknown field silently by default (a mandate date sent where its SEPA model has
none is simply lost); the emulator refuses it instead, with Zuora's category 21 ("unknown field
in request", which Zuora answers when asked to reject unknown fields), so that a test sees what a
tenant would have dropped. `tests/contract/test_zuora_sdk_models.py` checks the adapter's
requests against the SDK itself; these lists keep the emulator honest without the SDK.
"""

from __future__ import annotations

from typing import Any

from adapters.zuora.emulator.state import Tenant, ZuoraError

Shape = dict[str, "Shape | None"]  # field -> the shape of its object (or of each list item)

# CreateSEPAPaymentMethod, PaymentMethodRequestMandateInfo and
# CreatePaymentMethodBankTransferAccountHolderInfo.
SEPA_PAYMENT_METHOD: Shape = {
    **dict.fromkeys(
        [
            "accountKey",
            "paymentMethodNumber",
            "paymentGatewayNumber",
            "screeningAmount",
            "authGateway",
            "gatewayOptions",
            "ipAddress",
            "makeDefault",
            "processingOptions",
            "skipValidation",
            "type",
            "currencyCode",
            "tokenize",
            "tokens",
            "IBAN",
            "businessIdentificationCode",
            "accountMaskNumber",
        ]
    ),
    "accountHolderInfo": dict.fromkeys(
        [
            "accountHolderName",
            "addressLine1",
            "addressLine2",
            "city",
            "country",
            "email",
            "firstName",
            "lastName",
            "phone",
            "state",
            "zipCode",
        ]
    ),
    "mandateInfo": dict.fromkeys(("mandateId", "mandateReason", "mandateStatus")),
}

# CreateRefundRequest (POST /v1/payments/{paymentKey}/refunds).
REFUND: Shape = dict.fromkeys(
    [
        "comment",
        "customRates",
        "financeInformation",
        "gatewayOptions",
        "methodType",
        "reasonCode",
        "referenceId",
        "refundDate",
        "secondRefundReferenceId",
        "softDescriptor",
        "softDescriptorPhone",
        "totalAmount",
        "type",
    ]
)

# CreatePaymentRequest (POST /v1/payments) and CreatePaymentInvoiceApplication.
PAYMENT: Shape = {
    **dict.fromkeys(
        [
            "accountId",
            "accountNumber",
            "number",
            "amount",
            "authTransactionId",
            "comment",
            "cryptogram",
            "currency",
            "customRates",
            "debitMemos",
            "effectiveDate",
            "financeInformation",
            "gatewayId",
            "paymentGatewayNumber",
            "gatewayOptions",
            "gatewayOrderId",
            "mitTransactionSource",
            "paymentMethodId",
            "paymentMethodType",
            "paymentOption",
            "paymentScheduleKey",
            "prepayment",
            "balanceRefresh",
            "referenceId",
            "softDescriptor",
            "softDescriptorPhone",
            "standalone",
            "type",
        ]
    ),
    "invoices": dict.fromkeys(("amount", "invoiceId", "invoiceNumber", "items")),
}

# The top level of CreateOrderRequest and PreviewOrderRequest: a preview takes no processing
# options (it processes nothing), an order takes no preview options.
_ORDER_COMMON = [
    "category",
    "customFields",
    "description",
    "existingAccountNumber",
    "orderDate",
    "orderLineItems",
    "orderNumber",
    "reasonCode",
    "subscriptions",
]
ORDER: Shape = dict.fromkeys(
    [
        *_ORDER_COMMON,
        "newAccount",
        "processingOptions",
        "schedulingOptions",
        "status",
        "commitments",
    ]
)
ORDER_PREVIEW: Shape = dict.fromkeys([*_ORDER_COMMON, "previewAccountInfo", "previewOptions"])

# CreateOrderUpdateProduct: the fields any one of which names the rate plan to update.
RATE_PLAN_NAMES = (
    "ratePlanId",
    "subscriptionRatePlanNumber",
    "productRatePlanNumber",
    "externalCatalogPlanId",
    "uniqueToken",
)


def refuse_unknown_fields(payload: Any, shape: Shape, where: str = "") -> None:
    """Raises Zuora's unknown-field refusal for the first field `shape` does not have."""
    items = payload if isinstance(payload, list) else [payload]
    for item in items:
        if not isinstance(item, dict):
            continue
        for name, value in item.items():
            if name not in shape:
                raise ZuoraError("INVALID_FIELD", f"Unknown field '{where}{name}' in the request.")
            nested = shape[name]
            if nested is not None and value is not None:
                refuse_unknown_fields(value, nested, f"{where}{name}.")


def rate_plan_of_update(tenant: Tenant, update: dict[str, Any], charge_numbers: list[str]) -> None:
    """An UpdateProduct action names the rate plan it updates, and that rate plan holds the
    charges it updates (Zuora: "the id of the rate plan to be updated")."""
    if not any(update.get(name) for name in RATE_PLAN_NAMES):
        raise ZuoraError(
            "MISSING_REQUIRED_VALUE",
            "An UpdateProduct order action must name the rate plan to update: ratePlanId, "
            "subscriptionRatePlanNumber, productRatePlanNumber or externalCatalogPlanId.",
        )
    plan_id = update.get("ratePlanId")
    if plan_id is None:
        return  # named another way: the emulator seeds no plan numbers to check it against
    if plan_id not in tenant.table("RatePlan"):
        raise ZuoraError("INVALID_VALUE", f"The rate plan {plan_id} is invalid.")
    held = {
        charge.get("ChargeNumber")
        for charge in tenant.table("RatePlanCharge").values()
        if charge.get("RatePlanId") == plan_id
    }
    missing = [number for number in charge_numbers if number not in held]
    if missing:
        raise ZuoraError(
            "INVALID_VALUE", f"The rate plan {plan_id} has no charge {missing[0]} to update."
        )
