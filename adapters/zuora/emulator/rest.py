"""The emulator's REST face, over the same tenant as the SOAP face: OAuth client credentials,
accounts, payment methods (type SEPA), payments, refunds, subscriptions, Orders (UpdateProduct,
CancelSubscription, and their preview), invoice files, external payments (`external_payments.py`:
cheques recorded and cancelled), and ZOQL through `/v1/action/query`.

Shapes follow Zuora's v1 API: `success` plus `reasons: [{code, message}]`, where a code's last
two digits are its category (20 invalid value, 30 rule restriction, 40 not found, 50 lock
competition). As on Zuora, a refusal by a business rule can come back with HTTP 200: only
`success` says whether a call worked. `Idempotency-Key` on POST and PATCH replays the first
answer; the same key on another path or method is refused with 422.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

from adapters.zuora.emulator.amendments import Amendments, ChargeUpdate, Outcome, as_date
from adapters.zuora.emulator.callout_history import callout_routes
from adapters.zuora.emulator.debits import payment_run_routes
from adapters.zuora.emulator.external_payments import payment_routes
from adapters.zuora.emulator.invoices import invoice_routes, term_json
from adapters.zuora.emulator.pricing import rest_charge
from adapters.zuora.emulator.rest_requests import (
    ORDER,
    ORDER_PREVIEW,
    REFUND,
    SEPA_PAYMENT_METHOD,
    rate_plan_of_update,
    refuse_unknown_fields,
)
from adapters.zuora.emulator.rest_shapes import (
    CATEGORY,
    STATUS_OF_CATEGORY,
    Answer,
    as_json,
    method_json,
    money,
    reason_code,
)
from adapters.zuora.emulator.state import Tenant, ZObject, ZuoraError
from adapters.zuora.emulator.zoql import QueryEngine

Route = Callable[..., Answer]


class RestFace:
    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.amendments = Amendments(tenant)
        self.queries = QueryEngine(tenant)
        self.orders: dict[str, ZObject] = {}
        self.replays: dict[str, tuple[str, str, str, Answer]] = {}  # key -> method, path, body
        self.track_ids: list[str] = []  # every Zuora-Track-Id received, for tests to check
        self._routes: list[tuple[str, re.Pattern[str], Route]] = [
            ("GET", re.compile(r"/v1/accounts/([^/]+)"), self._account),
            ("PUT", re.compile(r"/v1/accounts/([^/]+)"), self._update_account),
            ("GET", re.compile(r"/v1/accounts/([^/]+)/payment-methods"), self._payment_methods),
            ("POST", re.compile(r"/v1/payment-methods"), self._create_payment_method),
            ("DELETE", re.compile(r"/v1/payment-methods/([^/]+)"), self._delete_payment_method),
            ("GET", re.compile(r"/v1/payments"), self._payments),
            ("POST", re.compile(r"/v1/payments/([^/]+)/refunds"), self._refund),
            ("GET", re.compile(r"/v1/subscriptions/accounts/([^/]+)"), self._subscriptions),
            ("GET", re.compile(r"/v1/subscriptions/([^/]+)"), self._subscription),
            ("POST", re.compile(r"/v1/orders"), self._order),
            ("POST", re.compile(r"/v1/orders/preview"), self._preview_order),
            ("GET", re.compile(r"/v1/orders/([^/]+)"), self._get_order),
            ("GET", re.compile(r"/v1/invoices/([^/]+)/files"), self._invoice_files),
            ("GET", re.compile(r"/v1/files/([^/]+)"), self._file),
            ("POST", re.compile(r"/v1/action/query"), self._action_query),
        ]
        self._routes += payment_run_routes(tenant)
        self._routes += callout_routes(tenant)  # the callout history
        self._routes += invoice_routes(tenant)
        self._routes += payment_routes(tenant)  # external payments: create, read, cancel

    # -- entry points --------------------------------------------------------------------------

    def token(self, form: dict[str, str]) -> Answer:
        if form.get("grant_type") != "client_credentials":
            return as_json({"error": "unsupported_grant_type"}, 400)
        try:
            token = self.tenant.oauth_token(
                form.get("client_id", ""), form.get("client_secret", "")
            )
        except ZuoraError:
            return as_json({"error": "invalid_client"}, 401)
        seconds = self.tenant.session_seconds
        return as_json(
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": seconds,
                "scope": "entity.emulator tenant.emulator",
                "jti": token[:16],
            }
        )

    def handle(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> Answer:
        track_id = headers.get("zuora-track-id")
        if track_id:
            self.track_ids.append(track_id)
        try:
            self.tenant.check_session(headers.get("authorization", "").removeprefix("Bearer "))
        except ZuoraError as error:
            return self._refusal(error)
        key = headers.get("idempotency-key") if method in ("POST", "PATCH") else None
        if key:
            earlier = self.replays.get(key)
            digest = hashlib.sha256(body).hexdigest()
            if earlier is not None:
                if earlier[:3] != (method, path, digest):
                    return self._reasons(
                        422, 50000020, "The Idempotency-Key was used with a different request."
                    )
                return earlier[3]
        answer = self._route(method, path, query, body)
        if key and answer.status < 500 and answer.status != 409:
            self.replays[key] = (method, path, hashlib.sha256(body).hexdigest(), answer)
        return answer

    def lock_competition(self) -> Answer:
        return self._reasons(
            409, 50000050, "Operation failed due to a lock competition, please retry later."
        )

    def _route(self, method: str, path: str, query: str, body: bytes) -> Answer:
        for route_method, pattern, handler in self._routes:
            match = pattern.fullmatch(path)
            if match and route_method == method:
                try:
                    # Decimals, as Zuora reads amounts: 12.345 stays 12.345.
                    payload = json.loads(body, parse_float=Decimal) if body else {}
                    params = {name: values[-1] for name, values in parse_qs(query).items()}
                    return handler(*match.groups(), payload=payload, params=params)
                except ZuoraError as error:
                    return self._refusal(error)
                except (ValueError, KeyError, TypeError) as error:
                    return self._reasons(400, 50000090, f"Malformed request: {error}")
        return self._reasons(404, 50000045, f"No such resource: {method} {path}")

    # -- accounts and payment methods ----------------------------------------------------------

    def _find_account(self, key: str) -> ZObject:
        for account in self.tenant.table("Account").values():
            if key in (account["Id"], account.get("AccountNumber")):
                return account
        raise ZuoraError("INVALID_ID", f"Cannot find entity by key: '{key}'.")

    def _account(self, key: str, **_: Any) -> Answer:
        account = self._find_account(key)
        return as_json(
            {
                "basicInfo": {
                    "id": account["Id"],
                    "accountNumber": account.get("AccountNumber"),
                    "name": account.get("Name"),
                    "status": account.get("Status"),
                },
                "billingAndPayment": {
                    "billCycleDay": int(account.get("BillCycleDay") or 1),
                    "currency": account.get("Currency"),
                    "defaultPaymentMethodId": account.get("DefaultPaymentMethodId"),
                },
                "metrics": self._metrics(account),
                "success": True,
            }
        )

    def _metrics(self, account: ZObject) -> dict[str, Any]:
        """What the account owes: the open balance of its posted invoices (what a payment run
        collects), as Zuora's `metrics` shows it."""
        owed = sum(
            (
                Decimal(str(invoice.get("Balance") or 0))
                for invoice in self.tenant.table("Invoice").values()
                if invoice.get("AccountId") == account["Id"] and invoice.get("Status") == "Posted"
            ),
            Decimal(0),
        )
        return {
            "balance": money(owed),
            "totalInvoiceBalance": money(owed),
            "currency": account.get("Currency"),
        }

    def _update_account(self, key: str, *, payload: dict[str, Any], **_: Any) -> Answer:
        account = self._find_account(key)
        changes = {"Id": account["Id"]}
        if "defaultPaymentMethodId" in payload:
            changes["DefaultPaymentMethodId"] = payload["defaultPaymentMethodId"]
        self.tenant.update("Account", changes)
        return as_json({"success": True}, committed=True)

    def _payment_methods(self, key: str, **_: Any) -> Answer:
        account = self._find_account(key)
        default = account.get("DefaultPaymentMethodId")
        groups: dict[str, list[dict[str, Any]]] = {"creditcard": [], "ach": [], "banktransfer": []}
        for method in self.tenant.table("PaymentMethod").values():
            if method.get("AccountId") != account["Id"]:
                continue
            group = "banktransfer" if method.get("Type") == "BankTransfer" else "creditcard"
            groups[group].append(method_json(method, account, default))
        return as_json({"defaultPaymentMethodId": default, **groups, "success": True})

    def _create_payment_method(self, *, payload: dict[str, Any], **_: Any) -> Answer:
        if payload.get("type") != "SEPA":
            raise ZuoraError("INVALID_VALUE", "Only type SEPA is emulated.")
        refuse_unknown_fields(payload, SEPA_PAYMENT_METHOD)
        account = self._find_account(str(payload.get("accountKey", "")))
        holder = payload.get("accountHolderInfo") or {}
        mandate = payload.get("mandateInfo") or {}
        if not holder.get("accountHolderName"):
            raise ZuoraError("MISSING_REQUIRED_VALUE", "accountHolderName is required.")
        method_id = self.tenant.create(
            "PaymentMethod",
            {
                "AccountId": account["Id"],
                "Type": "BankTransfer",
                "BankTransferType": "SEPA",
                "IBAN": payload.get("IBAN"),
                "BankTransferAccountName": holder["accountHolderName"],
                "Email": holder.get("email"),
                "BusinessIdentificationCode": payload.get("businessIdentificationCode"),
                "MandateID": mandate.get("mandateId"),
                "MandateReceived": "Yes" if mandate.get("mandateReceivedStatus") else "No",
                "MandateCreationDate": mandate.get("mandateCreationDate"),
                "ExistingMandate": "Yes" if mandate.get("existingMandateStatus") else "No",
            },
        )
        if payload.get("makeDefault"):
            self.tenant.update(
                "Account", {"Id": account["Id"], "DefaultPaymentMethodId": method_id}
            )
        return as_json({"id": method_id, "success": True}, committed=True)

    def _delete_payment_method(self, method_id: str, **_: Any) -> Answer:
        # Zuora keeps a deleted method for its history; the emulator marks it Closed, after the
        # same rule as SOAP: the account's default cannot go.
        self.tenant.update("PaymentMethod", {"Id": method_id, "PaymentMethodStatus": "Closed"})
        return as_json({"success": True}, committed=True)

    # -- payments and refunds ------------------------------------------------------------------

    def _payments(self, *, params: dict[str, str], **_: Any) -> Answer:
        account_id = params.get("accountId")
        payments = [
            p
            for p in sorted(self.tenant.table("Payment").values(), key=lambda p: p["Id"])
            if account_id in (None, p.get("AccountId"))
        ]
        size = max(1, min(int(params.get("pageSize", "20")), 40))
        page = max(1, int(params.get("page", "1")))
        chunk = payments[(page - 1) * size : page * size]
        result: dict[str, Any] = {
            "payments": [
                {
                    "id": p["Id"],
                    "accountId": p.get("AccountId"),
                    "amount": money(p.get("Amount")),
                    "status": p.get("Status"),
                    "gatewayState": p.get("GatewayState"),
                    "paymentMethodId": p.get("PaymentMethodId"),
                    "effectiveDate": p.get("EffectiveDate"),
                    "refundAmount": money(p.get("RefundAmount")),
                    "type": p.get("Type"),
                }
                for p in chunk
            ],
            "success": True,
        }
        if page * size < len(payments):
            result["nextPage"] = (
                f"/v1/payments?accountId={account_id or ''}&page={page + 1}&pageSize={size}"
            )
        return as_json(result)

    def _refund(self, payment_id: str, *, payload: dict[str, Any], **_: Any) -> Answer:
        refuse_unknown_fields(payload, REFUND)
        refund_id = self.tenant.create(
            "Refund",
            {
                "PaymentId": payment_id,
                "Amount": str(payload.get("totalAmount")),
                "Type": payload.get("type", "Electronic"),
                "ReferenceID": payload.get("referenceId"),
                "Comment": payload.get("comment"),
            },
        )
        refund = self.tenant.table("Refund")[refund_id]
        return as_json(
            {
                "id": refund_id,
                "number": refund["RefundNumber"],
                "status": refund["Status"],
                "type": refund["Type"],
                "amount": money(refund["Amount"]),
                "paymentId": payment_id,
                "refundDate": refund["RefundDate"],
                "success": True,
            },
            committed=True,
        )

    # -- subscriptions and orders --------------------------------------------------------------

    def _subscriptionas_json(self, version: ZObject) -> dict[str, Any]:
        account = self.tenant.table("Account").get(version["AccountId"], {})
        plans = []
        for plan in self.amendments.rate_plans(version["Id"]):
            charges = [
                rest_charge(self.tenant, charge)
                for charge in self.amendments.charges(plan["Id"])
                if str(charge.get("IsLastSegment")).lower() == "true"
            ]
            plans.append(
                {
                    "id": plan["Id"],
                    "ratePlanName": plan.get("Name"),
                    "productRatePlanId": plan.get("ProductRatePlanId"),
                    "ratePlanCharges": charges,
                }
            )
        return {
            "id": version["Id"],
            "subscriptionNumber": version["Name"],
            "accountId": version["AccountId"],
            "accountNumber": account.get("AccountNumber"),
            "currency": account.get("Currency"),
            "status": version["Status"],
            "version": int(version["Version"]),
            **term_json(version),
            "ratePlans": plans,
        }

    def _subscriptions(self, key: str, *, params: dict[str, str], **_: Any) -> Answer:
        # In pages, as Zuora lists them: 20 by default, at most 40, `nextPage` while more remain.
        account = self._find_account(key)
        versions = [
            s
            for s in self.tenant.table("Subscription").values()
            if s["AccountId"] == account["Id"] and s["Status"] != "Expired"
        ]
        size = max(1, min(int(params.get("pageSize", "20")), 40))
        page = max(1, int(params.get("page", "1")))
        chunk = versions[(page - 1) * size : page * size]
        answer = {"subscriptions": [self._subscriptionas_json(s) for s in chunk], "success": True}
        if page * size < len(versions):
            answer["nextPage"] = f"/v1/subscriptions/accounts/{key}?page={page + 1}&pageSize={size}"
        return as_json(answer)

    def _subscription(self, key: str, **_: Any) -> Answer:
        try:
            current = self.amendments.current(key)
        except ZuoraError:  # Zuora's REST answer for an unknown key: not found (category 40)
            raise ZuoraError("INVALID_ID", f"Cannot find entity by key: '{key}'.") from None
        return as_json({**self._subscriptionas_json(current), "success": True})

    def _apply_order(self, payload: dict[str, Any], *, preview: bool) -> tuple[Outcome, str]:
        refuse_unknown_fields(payload, ORDER_PREVIEW if preview else ORDER)
        [subscription] = payload["subscriptions"]
        [action] = subscription["orderActions"]
        number = subscription["subscriptionNumber"]
        owner = self._find_account(self.amendments.current(number)["AccountId"])
        if payload.get("existingAccountNumber") not in (None, owner.get("AccountNumber")):
            raise ZuoraError("INVALID_VALUE", "The subscription belongs to another account.")
        dates = {d["name"]: d["triggerDate"] for d in action.get("triggerDates", [])}
        if action["type"] == "UpdateProduct":
            update = action["updateProduct"]
            numbers = [str(charge.get("chargeNumber")) for charge in update["chargeUpdates"]]
            rate_plan_of_update(self.tenant, update, numbers)
            effective = as_date(dates.get("ContractEffective") or payload["orderDate"])
            updates = [
                ChargeUpdate(
                    quantity=Decimal(str(update["pricing"]["recurringPerUnit"]["quantity"])),
                    charge_number=update["chargeNumber"],
                )
                for update in action["updateProduct"]["chargeUpdates"]
            ]
            return self.amendments.update_product(
                number, updates, effective, preview=preview
            ), number
        if action["type"] == "CancelSubscription" and not preview:
            cancel = action["cancelSubscription"]
            effective = as_date(cancel.get("cancellationEffectiveDate") or payload["orderDate"])
            return self.amendments.cancel(number, effective), number
        raise ZuoraError("INVALID_VALUE", f"The order action {action['type']} is not emulated.")

    def _order(self, *, payload: dict[str, Any], **_: Any) -> Answer:
        order_number = payload.get("orderNumber") or f"O-{len(self.orders) + 1:08d}"
        if order_number in self.orders:
            raise ZuoraError("DUPLICATE_VALUE", f"The order number {order_number} already exists.")
        outcome, number = self._apply_order(payload, preview=False)
        account = self._find_account(outcome.subscription["AccountId"])
        order = {
            "orderNumber": order_number,
            "accountNumber": account.get("AccountNumber"),
            "status": "Completed",
            "subscriptions": [
                {"subscriptionNumber": number, "status": outcome.subscription["Status"]}
            ],
        }
        self.orders[order_number] = order
        return as_json({**order, "success": True}, committed=True)

    def _preview_order(self, *, payload: dict[str, Any], **_: Any) -> Answer:
        outcome, number = self._apply_order(payload, preview=True)
        invoice = outcome.invoice
        items = [
            {
                "serviceStartDate": item["ServiceStartDate"],
                "serviceEndDate": item["ServiceEndDate"],
                "amountWithoutTax": money(item["ChargeAmount"]),
                "taxAmount": 0,
                "chargeName": item["ChargeName"],
                "chargeNumber": item["ChargeNumber"],
                "unitPrice": money(item["UnitPrice"]),
                "subscriptionNumber": number,
                "processingType": "Charge",
                "additionalInfo": {"quantity": money(item["Quantity"])},
            }
            for item in outcome.invoice_items
        ]
        return as_json(
            {
                "success": True,
                "previewResult": {
                    "invoices": [
                        {
                            "amount": money(invoice["Amount"]),
                            "amountWithoutTax": money(invoice["AmountWithoutTax"]),
                            "taxAmount": 0,
                            "targetDate": invoice["TargetDate"],
                            "invoiceItems": items,
                        }
                    ]
                },
            }
        )

    def _get_order(self, order_number: str, **_: Any) -> Answer:
        order = self.orders.get(order_number)
        if order is None:
            raise ZuoraError("INVALID_ID", f"Cannot find entity by key: '{order_number}'.")
        return as_json({"order": order, "success": True})

    # -- invoices and queries ------------------------------------------------------------------

    def _invoice(self, invoice_id: str) -> ZObject:
        for invoice in self.tenant.table("Invoice").values():
            if invoice_id in (invoice["Id"], invoice.get("InvoiceNumber")):
                return invoice
        raise ZuoraError("INVALID_ID", f"Cannot find entity by key: '{invoice_id}'.")

    def _invoice_files(self, invoice_id: str, **_: Any) -> Answer:
        invoice = self._invoice(invoice_id)
        files = [
            {"id": invoice["Id"], "pdfFileUrl": f"/v1/files/{invoice['Id']}", "versionNumber": 1}
        ]
        return as_json({"invoiceFiles": files if invoice.get("Body") else [], "success": True})

    def _file(self, file_id: str, **_: Any) -> Answer:
        invoice = self._invoice(file_id)
        return Answer(200, base64.b64decode(invoice["Body"]), media_type="application/pdf")

    def _action_query(self, *, payload: dict[str, Any], **_: Any) -> Answer:
        page = self.queries.query(str(payload.get("queryString", "")))
        return as_json(
            {
                "records": [fields for _kind, fields in page.records],
                "size": page.size,
                "done": page.locator is None,
                "queryLocator": page.locator,
            }
        )

    # -- refusals ------------------------------------------------------------------------------

    def _refusal(self, error: ZuoraError) -> Answer:
        category = CATEGORY.get(error.code, 60)
        # A rule restriction (category 30) answers HTTP 200 with success false, as Zuora can.
        return self._reasons(
            STATUS_OF_CATEGORY.get(category, 200), reason_code(error), error.message
        )

    @staticmethod
    def _reasons(status: int, code: int, message: str) -> Answer:
        return as_json(
            {
                "success": False,
                "processId": "EMULATOR",
                "reasons": [{"code": code, "message": message}],
            },
            status,
        )
