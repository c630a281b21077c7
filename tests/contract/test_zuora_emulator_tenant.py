"""The emulator's tenant as the gateway's pre-checks and Apply see it, over loopback HTTP: the demo
customers, a direct debit in flight (payment Submitted, payment run Processing) and its control
endpoint, tiered seat charges on both faces, subscriptions in pages, the fields Zuora's payment
method list has (and only those), the rate limit, and the state kept across a restart."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from zeep import Client, Settings
from zeep.exceptions import Fault

from adapters.zuora.emulator.app import SOAP_PATH, create_emulator
from adapters.zuora.emulator.seed import DEMO_CUSTOMERS, add_customer, seed_demo
from adapters.zuora.emulator.seed_cheques import CHEQUE_DEMOS
from adapters.zuora.emulator.seed_corrections import CORRECTION_DEMOS
from adapters.zuora.emulator.state import Tenant
from adapters.zuora.soap_session import DEFAULT_WSDL
from tests.emulators import serve
from tests.reference_files import ZUORA_WSDL, require

BINDING = "{http://api.zuora.com/}SoapBinding"


def rest_client(base: str, tenant: Tenant) -> httpx.Client:
    token = httpx.post(
        f"{base}/oauth/token",
        data={
            "client_id": tenant.client_id,
            "client_secret": tenant.client_secret,
            "grant_type": "client_credentials",
        },
    ).json()["access_token"]
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=5)


class Soap:
    def __init__(self, base: str, wsdl: Path = DEFAULT_WSDL) -> None:
        self.client = Client(str(wsdl), settings=Settings(strict=False))
        self.service = self.client.create_service(BINDING, f"{base}{SOAP_PATH}")
        login = self.service.login(username="api@example.com", password="emulator-password")
        self.header = {"SessionHeader": {"session": login.Session}}

    def query(self, zoql: str) -> list[Any]:
        return list(self.service.query(queryString=zoql, _soapheaders=self.header).records or [])


@pytest.fixture(scope="module")
def demo() -> Iterator[tuple[str, Tenant, httpx.Client]]:
    tenant = Tenant()
    with serve(create_emulator(tenant, seed=seed_demo)) as base, rest_client(base, tenant) as rest:
        yield base, tenant, rest


def account_id(rest: httpx.Client, number: str) -> str:
    return str(rest.get(f"/v1/accounts/{number}").json()["basicInfo"]["id"])


def in_flight(rest: httpx.Client, number: str) -> tuple[list[Any], list[Any]]:
    """What the gateway's pre-check reads: submitted payments, and runs not finished."""
    owner = account_id(rest, number)
    payments = rest.get("/v1/payments", params={"accountId": owner, "pageSize": 40}).json()
    submitted = [p for p in payments["payments"] if p["gatewayState"] == "Submitted"]
    runs = [
        run
        for status in ("Pending", "Processing")
        for run in rest.get("/v1/payment-runs", params={"status": status}).json()["paymentRuns"]
        if run["accountId"] == owner
    ]
    return submitted, runs


def test_the_demo_has_one_debit_in_flight_on_a00000102_only(
    demo: tuple[str, Tenant, httpx.Client],
) -> None:
    base, _, rest = demo
    submitted, runs = in_flight(rest, "A00000102")
    assert [p["amount"] for p in submitted] == [29.0] and submitted[0]["status"] == "Processing"
    assert [run["status"] for run in runs] == ["Processing"]
    assert in_flight(rest, "A00000101") == ([], []) and in_flight(rest, "A00000103") == ([], [])
    # Over SOAP, ZOQL finds it by its gateway state (a field of Zuora's WSDL the project's own
    # does not declare yet); a payment run is not a SOAP object.
    zuora = Soap(base, require(ZUORA_WSDL))
    owner = account_id(rest, "A00000102")
    [payment] = zuora.query(
        f"select Id, Amount, GatewayState from Payment where AccountId = '{owner}'"
        " and GatewayState = 'Submitted' or AccountId = '{owner}' and Status = 'Processing'"
    )
    assert payment.GatewayState == "Submitted"
    with pytest.raises(Fault):
        zuora.query("select Id from PaymentRun")


def test_a_debit_in_flight_is_started_and_settled_by_the_control_endpoint(
    demo: tuple[str, Tenant, httpx.Client],
) -> None:
    base, _, rest = demo
    control = f"{base}/_emulator/debit-in-flight"
    started = httpx.post(
        control, json={"account": "A00000101", "amount_minor": 4900, "currency": "EUR"}
    )
    assert started.status_code == 201, started.text
    assert started.json()["payment_run_number"].startswith("PR-")
    submitted, runs = in_flight(rest, "A00000101")
    assert [p["amount"] for p in submitted] == [49.0] and len(runs) == 1
    run = rest.get(f"/v1/payment-runs/{runs[0]['number']}").json()
    assert run["success"] and run["status"] == "Processing"
    [data] = rest.get(f"/v1/payment-runs/{run['id']}/data").json()["data"]
    assert data["accountNumber"] == "A00000101" and data["amountToCollect"] == 49.0
    wrong = {"account": "A00000101", "amount_minor": 4900, "currency": "USD"}
    assert httpx.post(control, json=wrong).status_code == 400
    assert httpx.post(control, json={"account": "A09999999", "amount_minor": 1}).status_code == 400
    assert httpx.delete(control, params={"account": "A00000101"}).json() == {"settled": 1}
    assert in_flight(rest, "A00000101") == ([], [])
    assert len(in_flight(rest, "A00000102")[0]) == 1  # another account's debit is untouched


def test_a_tiered_seat_charge_shows_its_tiers_on_both_faces_and_prices_the_preview(
    demo: tuple[str, Tenant, httpx.Client],
) -> None:
    base, _, rest = demo
    [subscription] = rest.get("/v1/subscriptions/accounts/A00000103").json()["subscriptions"]
    [plan] = subscription["ratePlans"]
    [charge] = plan["ratePlanCharges"]
    assert charge["model"] == "Volume" and charge["price"] is None and charge["quantity"] == 8
    assert [(t["startingUnit"], t["endingUnit"], t["price"]) for t in charge["tiers"]] == [
        (1, 1, 29),
        (2, 4, 49),
        (5, 10, 99),
        (11, 50, 249),
    ]
    assert {t["priceFormat"] for t in charge["tiers"]} == {"FlatFee"}
    account = rest.get("/v1/accounts/A00000103").json()
    assert account["billingAndPayment"]["billCycleDay"] == 15
    tiers = Soap(base, require(ZUORA_WSDL)).query(
        "select Tier, StartingUnit, EndingUnit, Price, PriceFormat from RatePlanChargeTier"
        f" where RatePlanChargeId = '{charge['id']}'"
    )
    assert sorted(float(t.Price) for t in tiers) == [29, 49, 99, 249]
    order = {
        "orderDate": "2030-01-15",
        "existingAccountNumber": "A00000103",
        "subscriptions": [
            {
                "subscriptionNumber": subscription["subscriptionNumber"],
                "orderActions": [
                    {
                        "type": "UpdateProduct",
                        "triggerDates": [
                            {"name": "ContractEffective", "triggerDate": "2030-01-15"}
                        ],
                        "updateProduct": {
                            "ratePlanId": plan["id"],
                            "chargeUpdates": [
                                {
                                    "chargeNumber": charge["number"],
                                    "pricing": {"recurringPerUnit": {"quantity": 50}},
                                }
                            ],
                        },
                    }
                ],
            }
        ],
    }
    preview = rest.post("/v1/orders/preview", json=order).json()
    assert preview["previewResult"]["invoices"][0]["amount"] == 249.0
    too_many = order | {"subscriptions": [dict(order["subscriptions"][0])]}
    too_many["subscriptions"][0]["orderActions"][0]["updateProduct"]["chargeUpdates"][0]["pricing"][
        "recurringPerUnit"
    ]["quantity"] = 51
    assert rest.post("/v1/orders/preview", json=too_many).json()["success"] is False
    # After an upsell the new segment keeps the tiers.
    too_many["subscriptions"][0]["orderActions"][0]["updateProduct"]["chargeUpdates"][0]["pricing"][
        "recurringPerUnit"
    ]["quantity"] = 10
    assert rest.post("/v1/orders", json=too_many).json()["success"]
    [after] = rest.get("/v1/subscriptions/accounts/A00000103").json()["subscriptions"]
    [charge_after] = after["ratePlans"][0]["ratePlanCharges"]
    assert charge_after["quantity"] == 10 and len(charge_after["tiers"]) == 4


def test_payment_methods_carry_only_fields_zuora_returns(
    demo: tuple[str, Tenant, httpx.Client],
) -> None:
    _, _, rest = demo
    listing = rest.get("/v1/accounts/A00000101/payment-methods").json()
    [method] = listing["banktransfer"]
    assert "bankName" not in method and "accountKey" not in method
    assert method["isDefault"] and method["bankTransferType"] == "SEPA"
    assert method["IBAN"].endswith("2606") and "FR1420041010050500013M02606" not in str(listing)


def test_subscriptions_come_in_pages(demo: tuple[str, Tenant, httpx.Client]) -> None:
    _, tenant, rest = demo
    owner = add_customer(
        tenant, account_number="P00000001", name="Paged", iban="DE89370400440532013000"
    )
    for number in range(2, 5):
        extra = add_customer(
            tenant, account_number=f"P0000000{number}", name="Paged", iban="DE89370400440532013000"
        )
        for version in tenant.objects["Subscription"].values():
            if version["AccountId"] == extra.account_id:
                version["AccountId"] = owner.account_id
    first = rest.get("/v1/subscriptions/accounts/P00000001", params={"pageSize": 3}).json()
    assert len(first["subscriptions"]) == 3 and first["nextPage"]
    rest_of = rest.get(first["nextPage"]).json()
    assert len(rest_of["subscriptions"]) == 1 and "nextPage" not in rest_of
    whole = rest.get("/v1/subscriptions/accounts/P00000001").json()
    assert len(whole["subscriptions"]) == 4 and "nextPage" not in whole


def test_the_rate_limit_answers_429_with_retry_after_and_a_soap_fault(
    demo: tuple[str, Tenant, httpx.Client],
) -> None:
    base, tenant, rest = demo
    zuora = Soap(base)
    switched = httpx.post(f"{base}/_emulator/faults", json={"rate_limit_per_second": 5})
    assert switched.status_code == 204 and tenant.faults.rate_limit_per_second == 5
    try:
        answers = [rest.get("/v1/accounts/A00000101") for _ in range(12)]
        refused = [a for a in answers if a.status_code == 429]
        assert 5 <= len(refused) <= 7, [a.status_code for a in answers]
        assert refused[0].headers["Retry-After"] == "1"
        assert refused[0].headers["ratelimit-remaining"] == "0"
        assert refused[0].json()["success"] is False
        faults = []
        for _ in range(12):
            try:
                zuora.query("select Id from Account")
            except Fault as fault:
                faults.append(fault)
        assert faults and "REQUEST_EXCEEDED_RATE" in str(faults[0].code)
        time.sleep(1.1)  # a client that waits as told gets through
        assert rest.get("/v1/accounts/A00000101").status_code == 200
    finally:
        tenant.faults.rate_limit_per_second = 0


def test_a_client_pacing_itself_at_the_limit_is_never_refused(
    demo: tuple[str, Tenant, httpx.Client],
) -> None:
    _, tenant, rest = demo
    tenant.faults.rate_limit_per_second = 20
    time.sleep(1)  # a full bucket
    try:
        started = time.monotonic()
        statuses = []
        for n in range(40):
            # 20 a second after the first burst of 20, as aiolimiter would send them.
            time.sleep(max(0.0, started + max(0, n - 19) / 20 - time.monotonic()))
            statuses.append(rest.get("/v1/accounts/A00000101").status_code)
        assert statuses == [200] * 40
    finally:
        tenant.faults.rate_limit_per_second = 0


def test_the_state_survives_a_restart_of_the_emulator(tmp_path: Path) -> None:
    state_file = tmp_path / "emulators" / "zuora.json"
    tenant = Tenant()
    with serve(create_emulator(tenant, state_file=state_file, seed=seed_demo)) as base:
        assert state_file.exists()
        with rest_client(base, tenant) as rest:
            created = rest.post(
                "/v1/payment-methods",
                json={
                    "accountKey": "A00000101",
                    "type": "SEPA",
                    "IBAN": "FR7630006000011234567890189",
                    "accountHolderInfo": {"accountHolderName": "Atelier Lumière SARL"},
                    "mandateInfo": {"mandateId": "BG-restart"},
                },
                headers={"Idempotency-Key": "restart-1"},
            ).json()
            assert rest.put(
                "/v1/accounts/A00000101", json={"defaultPaymentMethodId": created["id"]}
            ).json()["success"]
        settled = httpx.delete(f"{base}/_emulator/debit-in-flight", params={"account": "A00000102"})
        assert settled.json() == {"settled": 1}
    kept = state_file.read_text()
    assert "A00000101" in kept and "FR7630006000011234567890189" not in kept  # no full IBAN
    assert not list(state_file.parent.glob(".zuora.json.*"))  # no temporary file left behind

    # A new process: a fresh tenant, which the file fills; the seed is not run again.
    again = Tenant()
    with serve(create_emulator(again, state_file=state_file, seed=seed_demo)) as base:
        with rest_client(base, again) as rest:
            listing = rest.get("/v1/accounts/A00000101/payment-methods").json()
            assert listing["defaultPaymentMethodId"] == created["id"]
            assert len(listing["banktransfer"]) == 2
            replay = rest.post(
                "/v1/payment-methods",
                json={
                    "accountKey": "A00000101",
                    "type": "SEPA",
                    "IBAN": "FR7630006000011234567890189",
                    "accountHolderInfo": {"accountHolderName": "Atelier Lumière SARL"},
                    "mandateInfo": {"mandateId": "BG-restart"},
                },
                headers={"Idempotency-Key": "restart-1"},
            ).json()
            assert replay["id"] == created["id"]  # the key's answer was kept too
            assert in_flight(rest, "A00000102") == ([], [])
        assert len(again.objects["Account"]) == (
            len(DEMO_CUSTOMERS) + len(CORRECTION_DEMOS) + len(CHEQUE_DEMOS)
        )


def test_an_unreadable_state_file_is_refused_rather_than_forgotten(tmp_path: Path) -> None:
    from adapters.zuora.emulator.persistence import StateFileError

    state_file = tmp_path / "zuora.json"
    state_file.write_text("{not json")
    with pytest.raises(StateFileError, match="cannot be read"):
        create_emulator(Tenant(), state_file=state_file, seed=seed_demo)
    assert state_file.read_text() == "{not json"


def test_the_demo_bill_to_contacts_hold_what_the_agent_verifies(
    demo: tuple[str, Tenant, httpx.Client],
) -> None:
    base, _, rest = demo
    zuora = Soap(base, require(ZUORA_WSDL))
    owner = account_id(rest, "A00000101")
    [account] = zuora.query(f"select Id, BillToId from Account where Id = '{owner}'")
    [contact] = zuora.query(
        "select WorkEmail, Address1, City, PostalCode, Country from Contact"
        f" where Id = '{account.BillToId}'"
    )
    assert contact.WorkEmail == "billing@shop-101.example"
    assert (contact.Address1, contact.City, contact.PostalCode, contact.Country) == (
        "12 rue des Ateliers",
        "Paris",
        "75011",
        "FR",
    )


def test_an_account_cannot_default_to_another_accounts_method(
    demo: tuple[str, Tenant, httpx.Client],
) -> None:
    _, _, rest = demo
    theirs = rest.get("/v1/accounts/A00000103/payment-methods").json()["defaultPaymentMethodId"]
    refused = rest.put("/v1/accounts/A00000101", json={"defaultPaymentMethodId": theirs}).json()
    assert refused["success"] is False and "does not belong" in refused["reasons"][0]["message"]
    still = rest.get("/v1/accounts/A00000101").json()["billingAndPayment"]
    assert still["defaultPaymentMethodId"] != theirs
