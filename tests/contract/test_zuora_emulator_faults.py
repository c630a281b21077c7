"""The emulator's per-operation faults over loopback HTTP, on both faces: each mode at each
named operation, with a plain REST client and with zeep over the project's WSDL. `fail` changes
nothing and answers Zuora's refusal; `slow` answers late; `lost_after_commit` makes the change
and the client gets no usable answer."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
import requests
from lxml import etree
from zeep import Client, Settings
from zeep.transports import Transport

from adapters.zuora.emulator.app import SOAP_PATH, create_emulator
from adapters.zuora.emulator.faults import OPERATIONS
from adapters.zuora.emulator.seed import Customer, add_customer
from adapters.zuora.emulator.state import Tenant
from adapters.zuora.soap_session import DEFAULT_WSDL
from tests.emulators import serve

BINDING = "{http://api.zuora.com/}SoapBinding"
NEW_IBAN = "FR7630006000011234567890189"


@dataclass
class Emulator:
    base: str
    tenant: Tenant
    rest: httpx.Client


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    tenant = Tenant()
    with serve(create_emulator(tenant)) as base:
        token = httpx.post(
            f"{base}/oauth/token",
            data={
                "client_id": tenant.client_id,
                "client_secret": tenant.client_secret,
                "grant_type": "client_credentials",
            },
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=5) as client:
            yield Emulator(base, tenant, client)


@pytest.fixture(autouse=True)
def no_faults_left(emulator: Emulator) -> Iterator[None]:
    yield
    httpx.delete(f"{emulator.base}/_emulator/operation-faults")


class Soap:
    def __init__(self, base: str, timeout: float = 5) -> None:
        transport = Transport(timeout=timeout, operation_timeout=timeout)
        self.client = Client(
            str(DEFAULT_WSDL), settings=Settings(strict=False), transport=transport
        )
        self.service = self.client.create_service(BINDING, f"{base}{SOAP_PATH}")
        login = self.service.login(username="api@example.com", password="emulator-password")
        self.header = {"SessionHeader": {"session": login.Session}}

    def call(self, operation: str, **arguments: Any) -> Any:
        return getattr(self.service, operation)(**arguments, _soapheaders=self.header)

    def make(self, kind: str, **fields: Any) -> Any:
        return self.client.get_type(f"{{http://object.api.zuora.com/}}{kind}")(**fields)


@dataclass
class Case:
    """One customer, the second (non-default) SEPA method it has, and the state to compare."""

    customer: Customer
    spare_method_id: str
    tenant: Tenant

    def methods(self) -> list[dict[str, Any]]:
        return [
            m
            for m in self.tenant.objects["PaymentMethod"].values()
            if m["AccountId"] == self.customer.account_id
        ]

    def state(self) -> tuple[Any, ...]:
        account = self.tenant.objects["Account"][self.customer.account_id]
        versions = [
            s["Version"]
            for s in self.tenant.objects["Subscription"].values()
            if s["AccountId"] == self.customer.account_id and s["Status"] != "Expired"
        ]
        refunds = [
            r
            for r in self.tenant.objects["Refund"].values()
            if r["PaymentId"] == self.customer.processed_payment_id
        ]
        return (
            len(self.methods()),
            sorted(str(m.get("PaymentMethodStatus")) for m in self.methods()),
            account["DefaultPaymentMethodId"],
            versions,
            len(refunds),
            self.tenant.objects["Invoice"][self.customer.invoice_id]["Status"],
        )


@pytest.fixture
def case(emulator: Emulator) -> Case:
    tenant = emulator.tenant
    number = f"F{len(tenant.objects['Account']) + 1:08d}"
    customer = add_customer(
        tenant, account_number=number, name="Atelier", iban="DE89370400440532013000", seats=3
    )
    spare = tenant.create(
        "PaymentMethod",
        {
            "AccountId": customer.account_id,
            "Type": "BankTransfer",
            "BankTransferType": "SEPA",
            "IBAN": "ES9121000418450200051332",
            "MandateID": f"SPARE-{number}",
        },
    )
    invoice = tenant.objects["Invoice"][customer.invoice_id]
    invoice["Balance"] = invoice["Amount"]  # unpaid: Zuora lets an open invoice be unposted
    return Case(customer, spare, tenant)


# -- each operation, on each face --------------------------------------------------------------

Call = Callable[[Emulator, Case, float], Any]  # (emulator, case, client timeout) -> answer


def _current_plan(case: Case) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The active version, its rate plan and its seat charge's last segment."""
    tenant = case.tenant
    [version] = [
        s
        for s in tenant.objects["Subscription"].values()
        if s["AccountId"] == case.customer.account_id and s["Status"] == "Active"
    ]
    [plan] = [
        p for p in tenant.objects["RatePlan"].values() if p["SubscriptionId"] == version["Id"]
    ]
    [charge] = [
        c
        for c in tenant.objects["RatePlanCharge"].values()
        if c["RatePlanId"] == plan["Id"] and str(c["IsLastSegment"]).lower() == "true"
    ]
    return version, plan, charge


def _order(case: Case, quantity: int) -> dict[str, Any]:
    return {
        "orderDate": "2030-01-05",
        "existingAccountNumber": case.customer.account_number,
        "subscriptions": [
            {
                "subscriptionNumber": case.customer.subscription_number,
                "orderActions": [
                    {
                        "type": "UpdateProduct",
                        "triggerDates": [
                            {"name": "ContractEffective", "triggerDate": "2030-01-05"}
                        ],
                        "updateProduct": {
                            "ratePlanId": _current_plan(case)[1]["Id"],
                            "chargeUpdates": [
                                {
                                    "chargeNumber": case.customer.charge_number,
                                    "pricing": {"recurringPerUnit": {"quantity": quantity}},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }


def _rest(method: str, path: Callable[[Case], str], body: Callable[[Case], Any] | None) -> Call:
    def call(emulator: Emulator, case: Case, timeout: float) -> Any:
        answer = emulator.rest.request(
            method,
            path(case),
            json=None if body is None else body(case),
            timeout=timeout,
        )
        return answer.json()

    return call


REST_CALLS: dict[str, Call] = {
    "create:PaymentMethod": _rest(
        "POST",
        lambda c: "/v1/payment-methods",
        lambda c: {
            "accountKey": c.customer.account_number,
            "type": "SEPA",
            "IBAN": NEW_IBAN,
            "accountHolderInfo": {"accountHolderName": "Atelier"},
            "mandateInfo": {"mandateId": f"NEW-{c.customer.account_number}"},
        },
    ),
    "delete:PaymentMethod": _rest(
        "DELETE", lambda c: f"/v1/payment-methods/{c.spare_method_id}", None
    ),
    "update:Account": _rest(
        "PUT",
        lambda c: f"/v1/accounts/{c.customer.account_number}",
        lambda c: {"defaultPaymentMethodId": c.spare_method_id},
    ),
    "amend:Subscription": _rest("POST", lambda c: "/v1/orders", lambda c: _order(c, 7)),
    "preview:Subscription": _rest("POST", lambda c: "/v1/orders/preview", lambda c: _order(c, 7)),
    "create:Refund": _rest(
        "POST",
        lambda c: f"/v1/payments/{c.customer.processed_payment_id}/refunds",
        lambda c: {"type": "External", "totalAmount": 10, "comment": "fault test"},
    ),
    "update:Invoice": _rest("PUT", lambda c: f"/v1/invoices/{c.customer.invoice_id}/unpost", None),
}


def _soap_amend(case: Case, zuora: Soap, *, preview: bool) -> Any:
    version, plan, charge = _current_plan(case)
    amendment = zuora.make(
        "Amendment",
        Name=f"Seats {case.customer.account_number}",
        Type="UpdateProduct",
        Status="Completed",
        SubscriptionId=version["Id"],
        ContractEffectiveDate="2030-01-05",
        EffectiveDate="2030-01-05",
        RatePlanData={
            "RatePlan": zuora.make("RatePlan", AmendmentSubscriptionRatePlanId=plan["Id"]),
            "RatePlanChargeData": [
                {
                    "RatePlanCharge": zuora.make(
                        "RatePlanCharge",
                        ProductRatePlanChargeId=charge["ProductRatePlanChargeId"],
                        Quantity=7,
                    )
                }
            ],
        },
    )
    request: dict[str, Any] = {
        "Amendments": [amendment],
        "AmendOptions": {"GenerateInvoice": False, "ProcessPayments": False},
    }
    if preview:
        request["PreviewOptions"] = {"EnablePreviewMode": True, "NumberOfPeriods": 1}
    [result] = zuora.call("amend", requests=[request])
    return result


def _soap(build: Callable[[Case, Soap], Any]) -> Call:
    def call(emulator: Emulator, case: Case, timeout: float) -> Any:
        return build(case, Soap(emulator.base, timeout))

    return call


SOAP_CALLS: dict[str, Call] = {
    "create:PaymentMethod": _soap(
        lambda c, z: z.call(
            "create",
            zObjects=[
                z.make(
                    "PaymentMethod",
                    AccountId=c.customer.account_id,
                    Type="BankTransfer",
                    BankTransferType="SEPA",
                    IBAN=NEW_IBAN,
                    MandateID=f"NEW-{c.customer.account_number}",
                )
            ],
        )[0]
    ),
    "update:PaymentMethod": _soap(
        lambda c, z: z.call(
            "update",
            zObjects=[z.make("PaymentMethod", Id=c.spare_method_id, PaymentMethodStatus="Closed")],
        )[0]
    ),
    "delete:PaymentMethod": _soap(
        lambda c, z: z.call("delete", type="PaymentMethod", ids=[c.spare_method_id])[0]
    ),
    "update:Account": _soap(
        lambda c, z: z.call(
            "update",
            zObjects=[
                z.make(
                    "Account", Id=c.customer.account_id, DefaultPaymentMethodId=c.spare_method_id
                )
            ],
        )[0]
    ),
    "amend:Subscription": _soap(lambda c, z: _soap_amend(c, z, preview=False)),
    "preview:Subscription": _soap(lambda c, z: _soap_amend(c, z, preview=True)),
    "create:Refund": _soap(
        lambda c, z: z.call(
            "create",
            zObjects=[
                z.make(
                    "Refund",
                    PaymentId=c.customer.processed_payment_id,
                    Amount=Decimal(10),
                    Type="External",
                )
            ],
        )[0]
    ),
    "update:Invoice": _soap(
        lambda c, z: z.call(
            "update", zObjects=[z.make("Invoice", Id=c.customer.invoice_id, Status="Draft")]
        )[0]
    ),
}
CASES = [("rest", name) for name in REST_CALLS] + [("soap", name) for name in SOAP_CALLS]
WRITES = {name for name in OPERATIONS if not name.startswith("preview:")}


def _call(face: str, operation: str) -> Call:
    return (REST_CALLS if face == "rest" else SOAP_CALLS)[operation]


def _succeeded(face: str, answer: Any) -> bool:
    if face == "rest":
        return bool(answer["success"])
    return bool(getattr(answer, "Success", None) or getattr(answer, "success", None))


def _arm(emulator: Emulator, **fault: Any) -> None:
    answer = httpx.post(f"{emulator.base}/_emulator/operation-faults", json=fault)
    assert answer.status_code == 201, answer.text


def test_every_named_operation_is_carried_by_a_face() -> None:
    assert set(REST_CALLS) | set(SOAP_CALLS) == set(OPERATIONS)
    assert set(SOAP_CALLS) == set(OPERATIONS)


@pytest.mark.parametrize(("face", "operation"), CASES)
def test_without_a_fault_the_call_works_and_changes_what_it_says(
    emulator: Emulator, case: Case, face: str, operation: str
) -> None:
    before = case.state()
    assert _succeeded(face, _call(face, operation)(emulator, case, 5))
    assert (case.state() != before) == (operation in WRITES)


@pytest.mark.parametrize(("face", "operation"), CASES)
def test_fail_answers_zuoras_refusal_and_changes_nothing(
    emulator: Emulator, case: Case, face: str, operation: str
) -> None:
    _arm(emulator, operation=operation, mode="fail", code="INVALID_VALUE")
    before = case.state()
    answer = _call(face, operation)(emulator, case, 5)
    assert not _succeeded(face, answer)
    if face == "rest":
        assert answer["reasons"][0]["code"] % 100 == 20
    else:
        errors = getattr(answer, "Errors", None) or answer.errors
        assert errors[0].Code == "INVALID_VALUE"
    assert case.state() == before
    # `times` 1: the next call goes through.
    assert _succeeded(face, _call(face, operation)(emulator, case, 5))


@pytest.mark.parametrize(("face", "operation"), CASES)
def test_slow_answers_after_its_seconds(
    emulator: Emulator, case: Case, face: str, operation: str
) -> None:
    _arm(emulator, operation=operation, mode="slow", seconds=0.4)
    before = case.state()
    started = time.monotonic()
    assert _succeeded(face, _call(face, operation)(emulator, case, 5))
    assert time.monotonic() - started >= 0.4
    assert (case.state() != before) == (operation in WRITES)


@pytest.mark.parametrize(("face", "operation"), CASES)
def test_lost_after_commit_drops_the_connection_after_the_change(
    emulator: Emulator, case: Case, face: str, operation: str
) -> None:
    _arm(emulator, operation=operation, mode="lost_after_commit", seconds=0)
    before = case.state()
    with pytest.raises((httpx.TransportError, requests.exceptions.RequestException)):
        _call(face, operation)(emulator, case, 5)
    assert (case.state() != before) == (operation in WRITES)


@pytest.mark.parametrize("face", ["rest", "soap"])
def test_lost_after_commit_with_seconds_answers_after_the_client_gave_up(
    emulator: Emulator, case: Case, face: str
) -> None:
    _arm(emulator, operation="update:Account", mode="lost_after_commit", seconds=1.5)
    with pytest.raises((httpx.TimeoutException, requests.exceptions.Timeout)):
        _call(face, "update:Account")(emulator, case, 0.5)
    account = case.tenant.objects["Account"][case.customer.account_id]
    assert account["DefaultPaymentMethodId"] == case.spare_method_id


@pytest.mark.parametrize("face", ["rest", "soap"])
def test_fail_with_a_status_is_an_outage_and_times_counts_down(
    emulator: Emulator, case: Case, face: str
) -> None:
    _arm(emulator, operation="create:PaymentMethod", mode="fail", status=503, times=2)
    before = case.state()
    for _ in range(2):
        if face == "rest":
            answer = emulator.rest.post(
                "/v1/payment-methods",
                json={"accountKey": case.customer.account_number, "type": "SEPA"},
            )
            assert answer.status_code == 503
        else:
            zuora = Soap(emulator.base)
            sepa = zuora.make("PaymentMethod", AccountId=case.customer.account_id, Type="ACH")
            envelope = zuora.client.create_message(
                zuora.service, "create", zObjects=[sepa], _soapheaders=zuora.header
            )
            answer = httpx.post(
                f"{emulator.base}{SOAP_PATH}",
                content=etree.tostring(envelope),
                headers={"Content-Type": "text/xml"},
            )
            assert answer.status_code == 503
    assert case.state() == before
    assert _succeeded(face, _call(face, "create:PaymentMethod")(emulator, case, 5))


def test_the_control_endpoint_refuses_what_it_does_not_know(emulator: Emulator) -> None:
    control = f"{emulator.base}/_emulator/operation-faults"
    for wrong in (
        {"operation": "create:Payment", "mode": "fail"},
        {"operation": "create:Refund", "mode": "explode"},
        {"operation": "create:Refund", "mode": "slow", "times": 0},
    ):
        assert httpx.post(control, json=wrong).status_code == 400
    _arm(emulator, operation="create:Refund", mode="slow", seconds=1, times=3)
    assert httpx.get(control).json() == [
        {
            "operation": "create:Refund",
            "mode": "slow",
            "times": 3,
            "seconds": 1.0,
            "code": "INVALID_VALUE",
            "status": None,
        }
    ]
    assert httpx.delete(control).status_code == 204
    assert httpx.get(control).json() == []
