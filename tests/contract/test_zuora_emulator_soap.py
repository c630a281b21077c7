"""The Zuora emulator's SOAP face, spoken to by zeep over loopback HTTP with the project's own
WSDL and with Zuora's published one: the emulator must be a faithful stand-in for both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from zeep import Client, Settings
from zeep.exceptions import Fault

from adapters.zuora.emulator.app import SOAP_PATH, create_emulator
from adapters.zuora.emulator.state import Tenant
from adapters.zuora.soap_session import DEFAULT_WSDL as OURS
from tests.emulators import post, serve
from tests.reference_files import ZUORA_WSDL, require

BINDING = "{http://api.zuora.com/}SoapBinding"
IBAN = "FR7630006000011234567890189"


@pytest.fixture(scope="module")
def emulator() -> Iterator[tuple[str, Tenant]]:
    tenant = Tenant()
    with serve(create_emulator(tenant)) as base:
        yield base, tenant


@pytest.fixture(params=["ours", "published"])
def wsdl(request: pytest.FixtureRequest) -> Path:
    return OURS if request.param == "ours" else require(ZUORA_WSDL)


class Session:
    def __init__(self, wsdl: Path, base: str) -> None:
        self.client = Client(str(wsdl), settings=Settings(strict=False))
        self.service = self.client.create_service(BINDING, f"{base}{SOAP_PATH}")
        login = self.service.login(username="api@example.com", password="emulator-password")
        self.header = {"SessionHeader": {"session": login.Session}}

    def call(self, operation: str, **arguments: Any) -> Any:
        return getattr(self.service, operation)(**arguments, _soapheaders=self.header)

    def make(self, kind: str, **fields: Any) -> Any:
        return self.client.get_type(f"{{http://object.api.zuora.com/}}{kind}")(**fields)


def _account(tenant: Tenant) -> str:
    return tenant.create(
        "Account", {"AccountNumber": "A1", "Name": "Atelier", "Currency": "EUR", "Status": "Active"}
    )


def test_a_sepa_method_is_created_masked_and_found_by_its_mandate(
    emulator: tuple[str, Tenant], wsdl: Path
) -> None:
    base, tenant = emulator
    zuora, account = Session(wsdl, base), _account(tenant)
    sepa = zuora.make(
        "PaymentMethod",
        AccountId=account,
        Type="BankTransfer",
        BankTransferType="SEPA",
        IBAN=IBAN,
        BankTransferAccountName="Atelier",
        MandateID="BG-mandate-1",
    )
    [saved] = zuora.call("create", zObjects=[sepa])
    assert saved.Success is True
    found = zuora.call(
        "query",
        queryString="select Id, MandateID, BankTransferAccountNumberMask, PaymentMethodStatus"
        f" from PaymentMethod where AccountId = '{account}' and MandateID = 'BG-mandate-1'",
    )
    assert found.size == 1
    [method] = found.records
    assert method.Id == saved.Id and method.PaymentMethodStatus == "Active"
    assert method.BankTransferAccountNumberMask.endswith("0189") and IBAN not in str(found)


def test_the_default_method_cannot_be_closed_and_a_closed_one_cannot_be_default(
    emulator: tuple[str, Tenant], wsdl: Path
) -> None:
    base, tenant = emulator
    zuora, account = Session(wsdl, base), _account(tenant)
    ids = [
        zuora.call(
            "create",
            zObjects=[
                zuora.make(
                    "PaymentMethod",
                    AccountId=account,
                    Type="BankTransfer",
                    BankTransferType="SEPA",
                    IBAN=IBAN,
                    MandateID=f"BG-{n}",
                )
            ],
        )[0].Id
        for n in range(2)
    ]
    zuora.call(
        "update", zObjects=[zuora.make("Account", Id=account, DefaultPaymentMethodId=ids[0])]
    )
    [refused] = zuora.call("delete", type="PaymentMethod", ids=[ids[0]])
    assert refused.success is False and refused.errors[0].Code == "CANNOT_DELETE"
    [closed] = zuora.call(
        "update", zObjects=[zuora.make("PaymentMethod", Id=ids[0], PaymentMethodStatus="Closed")]
    )
    assert closed.Success is False and closed.Errors[0].Code == "CANNOT_DELETE"
    zuora.call(
        "update", zObjects=[zuora.make("PaymentMethod", Id=ids[1], PaymentMethodStatus="Closed")]
    )
    [not_default] = zuora.call(
        "update", zObjects=[zuora.make("Account", Id=account, DefaultPaymentMethodId=ids[1])]
    )
    assert not_default.Success is False and not_default.Errors[0].Code == "INVALID_VALUE"


def test_query_more_pages_through_large_results(emulator: tuple[str, Tenant], wsdl: Path) -> None:
    base, tenant = emulator
    zuora, account = Session(wsdl, base), _account(tenant)
    for n in range(5):
        tenant.create(
            "Payment",
            {
                "AccountId": account,
                "Amount": "10.00",
                "Status": "Processing",
                "PaymentNumber": f"P-{n}",
            },
        )
    query = f"select Id, PaymentNumber from Payment where AccountId = '{account}'"
    first = zuora.service.query(
        queryString=query, _soapheaders={**zuora.header, "QueryOptions": {"batchSize": 2}}
    )
    seen = [record.PaymentNumber for record in first.records]
    locator, done = first.queryLocator, first.done
    while not done:
        more = zuora.call("queryMore", queryLocator=locator)
        seen += [record.PaymentNumber for record in more.records]
        locator, done = more.queryLocator, more.done
    assert sorted(seen) == [f"P-{n}" for n in range(5)] and first.size == 5


def test_faults_name_zuoras_codes(emulator: tuple[str, Tenant], wsdl: Path) -> None:
    base, _tenant = emulator
    zuora = Session(wsdl, base)
    with pytest.raises(Fault) as malformed:
        zuora.call("query", queryString="selec Id form Account")
    assert "ZOQL" in str(malformed.value)
    with pytest.raises(Fault) as bad_login:
        zuora.service.login(username="api@example.com", password="wrong")
    assert "Invalid login" in str(bad_login.value)
    assert httpx.post(f"{base}/_emulator/faults", json={"lock_competition": 1}).status_code == 204
    with pytest.raises(Fault) as locked:
        zuora.call("query", queryString="select Id from Account")
    assert "lock competition" in str(locked.value)
    assert httpx.post(f"{base}/_emulator/faults", json={"nonsense": 1}).status_code == 400
    assert post(base, "/_emulator/expire-sessions") == 204
    with pytest.raises(Fault) as expired:
        zuora.call("query", queryString="select Id from Account")
    assert expired.value.message == "Invalid Session"
