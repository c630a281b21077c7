"""The look-up for an earlier attempt before a SEPA create: skipped on a step's first attempt
(`resumed=False`, nothing can exist yet), made on a resumed one, and always made after a
create whose answer was lost, over SOAP and REST."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from adapters.ports import PaymentMethod
from adapters.zuora.adapter import ZuoraAdapter
from adapters.zuora.emulator.app import SOAP_PATH, create_emulator
from adapters.zuora.emulator.state import Faults, Tenant
from adapters.zuora.rest_session import RestConfig, ZuoraRest
from adapters.zuora.rest_transport import RestTransport
from adapters.zuora.soap_session import SoapConfig, ZuoraSoap
from adapters.zuora.soap_transport import SoapTransport
from tests.contract.test_zuora_adapter import customer, methods_of, new_method
from tests.emulators import serve


@pytest.fixture(scope="module")
def emulated() -> Iterator[tuple[str, Tenant]]:
    tenant = Tenant()
    with serve(create_emulator(tenant)) as base:
        yield base, tenant


class Counted:
    """The adapter with its look-ups by mandate counted (each is one call to the emulator)."""

    def __init__(self, adapter: ZuoraAdapter, tenant: Tenant) -> None:
        self.adapter, self.tenant, self.lookups = adapter, tenant, 0
        transport = adapter.transport
        look = transport.payment_method_by_mandate

        async def counted(account_id: str, mandate_id: str) -> PaymentMethod | None:
            self.lookups += 1
            return await look(account_id, mandate_id)

        transport.payment_method_by_mandate = counted  # type: ignore[method-assign]


@pytest.fixture(params=["soap", "rest"])
async def zuora(
    request: pytest.FixtureRequest, emulated: tuple[str, Tenant]
) -> AsyncIterator[Counted]:
    base, tenant = emulated
    tenant.faults = Faults()
    transport: SoapTransport | RestTransport
    if request.param == "rest":
        rest = RestConfig(
            base,
            tenant.client_id,
            tenant.client_secret,
            timeout_seconds=0.5,
            max_backoff_seconds=0.05,
        )
        transport = RestTransport(ZuoraRest(rest))
    else:
        soap = SoapConfig(
            f"{base}{SOAP_PATH}",
            tenant.username,
            tenant.password,
            timeout_seconds=0.5,
            max_backoff_seconds=0.05,
        )
        transport = SoapTransport(ZuoraSoap(soap))
    adapter = ZuoraAdapter(transport)
    yield Counted(adapter, tenant)
    await adapter.close()


async def test_a_first_attempt_makes_no_lookup_and_a_resumed_one_does(zuora: Counted) -> None:
    c = customer(zuora.tenant)
    first = await zuora.adapter.create_sepa_payment_method(
        c.account_id, new_method("BG-FIRST"), idempotency_key="first:create", resumed=False
    )
    assert zuora.lookups == 0
    # The same step resumed (say after a crash): the look-up finds the method, no second one.
    again = await zuora.adapter.create_sepa_payment_method(
        c.account_id, new_method("BG-FIRST"), idempotency_key="first:create", resumed=True
    )
    assert zuora.lookups == 1 and again.id == first.id
    assert len(methods_of(zuora.tenant, c.account_id)) == 2  # the old method and the new one


async def test_a_first_attempt_whose_answer_is_lost_looks_up_before_trying_again(
    zuora: Counted,
) -> None:
    tenant = zuora.tenant
    c = customer(tenant)
    tenant.faults.slow_after_commit, tenant.faults.slow_after_commit_seconds = 1, 1.0
    made = await zuora.adapter.create_sepa_payment_method(
        c.account_id, new_method("BG-LOST"), idempotency_key="lost:create", resumed=False
    )
    assert tenant.faults.slow_after_commit == 0  # the create's answer was the one lost
    assert made.mandate_id == "BG-LOST"
    if zuora.adapter.transport_name == "soap":  # REST's session settles it under its key
        assert zuora.lookups >= 1
    assert len(methods_of(tenant, c.account_id)) == 2  # made once
