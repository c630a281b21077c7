"""The full SEPA change through ZuoraAdapter, side by side with the bare call sequence.

Starts the Zuora emulator in its own process (`billing-gateway emulator`, loopback HTTP), then
for each transport alternates, customer by customer:
- adapter: create_sepa_payment_method, set_default_payment_method, close_payment_method, with
  everything that makes them safe (account checks, the look-up after a create whose answer was
  lost). It models a first attempt (resumed=False, as the runner passes for a step's first
  call), so no look-up for an earlier attempt before the create; a resumed step adds one;
- bare: the three calls a hand-written script makes with the same libraries (zeep: create,
  update, update; httpx: POST /v1/payment-methods, PUT /v1/accounts, DELETE), signed in once.
Prints per-change p50 and p95, HTTP calls per change, and the overhead the adapter adds.
Target (design: performance.md): the adapter's p50 at most 1.5x the bare sequence's, per transport.

    make bench        # or: .venv/bin/python bench/zuora_adapter.py --changes 200
Exits non-zero when it is missed; bench/results/zuora_adapter.json keeps the last runs.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kit import ROOT, Bound, Ratio, finish, free_port, report

from adapters.ports import AccountLookup, NewSepaMethod
from adapters.zuora.adapter import ZuoraAdapter
from adapters.zuora.emulator.app import SOAP_PATH
from adapters.zuora.emulator.state import Tenant
from adapters.zuora.rest_session import RestConfig, ZuoraRest
from adapters.zuora.rest_transport import RestTransport
from adapters.zuora.soap_session import SoapConfig, ZuoraSoap
from adapters.zuora.soap_transport import SoapTransport

TARGET_RATIO = 1.5
IBAN = "FR7630006000011234567890189"
CREDENTIALS = Tenant()


def start_emulator(port: int, customers: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gateway",
            "emulator",
            "--port",
            str(port),
            "--extra-customers",
            str(customers),
        ],
        cwd=ROOT,  # `-m` puts the working directory first: bench/audit.py would hide `audit`
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.post(f"http://127.0.0.1:{port}/_emulator/expire-sessions", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("the emulator did not start")


class Counter:
    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, _request: httpx.Request) -> None:
        self.calls += 1


def counted(client: httpx.AsyncClient) -> Counter:
    counter = Counter()
    client.event_hooks["request"].append(counter)
    return counter


def method(number: int) -> NewSepaMethod:
    return NewSepaMethod(
        iban=IBAN,
        holder=f"Customer {number}",
        email=None,
        mandate_id=f"BENCH-{number}",
        mandate_signed_on=date(2026, 11, 23),
    )


# -- the two sides ------------------------------------------------------------------------------


async def adapter_change(zuora: ZuoraAdapter, account_id: str, old_id: str, number: int) -> None:
    key = f"bench-{number}"
    created = await zuora.create_sepa_payment_method(
        account_id, method(number), idempotency_key=f"{key}:create", resumed=False
    )
    await zuora.set_default_payment_method(account_id, created.id, idempotency_key=f"{key}:dflt")
    await zuora.close_payment_method(old_id, idempotency_key=f"{key}:close")


class BareSoap:
    """What a script does with zeep alone: sign in once, then create, update, update."""

    def __init__(self, soap: ZuoraSoap) -> None:
        self.soap = soap

    async def change(self, account_id: str, old_id: str, number: int) -> None:
        new = method(number)
        pm = self.soap.make(
            "PaymentMethod",
            AccountId=account_id,
            Type="BankTransfer",
            BankTransferType="SEPA",
            IBAN=new.iban,
            BankTransferAccountName=new.holder,
            MandateID=new.mandate_id,
        )
        [created] = await self.soap._service.create(zObjects=[pm], _soapheaders=self._session())
        account = self.soap.make("Account", Id=account_id, DefaultPaymentMethodId=created.Id)
        await self.soap._service.update(zObjects=[account], _soapheaders=self._session())
        closed = self.soap.make("PaymentMethod", Id=old_id, PaymentMethodStatus="Closed")
        await self.soap._service.update(zObjects=[closed], _soapheaders=self._session())

    def _session(self) -> dict[str, Any]:
        return {"SessionHeader": {"session": self.soap._session}}


class BareRest:
    """What a script does with httpx alone: one token, then POST, PUT, DELETE."""

    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    async def change(self, account_id: str, old_id: str, number: int) -> None:
        new = method(number)
        created = await self.client.post(
            "/v1/payment-methods",
            headers={**self.headers, "Idempotency-Key": f"bare-{number}"},
            json={
                "accountKey": account_id,
                "type": "SEPA",
                "IBAN": new.iban,
                "accountHolderInfo": {"accountHolderName": new.holder},
                "mandateInfo": {"mandateId": new.mandate_id},
            },
        )
        await self.client.put(
            f"/v1/accounts/{account_id}",
            headers=self.headers,
            json={"defaultPaymentMethodId": created.json()["id"]},
        )
        await self.client.delete(f"/v1/payment-methods/{old_id}", headers=self.headers)


# -- measuring ----------------------------------------------------------------------------------


async def customers(zuora: ZuoraAdapter, first: int, count: int) -> list[tuple[str, str]]:
    """(account id, default payment method id) of B<first>..., read before the clock starts."""
    found = []
    for number in range(first, first + count):
        account = await zuora.find_account(AccountLookup(number=f"B{number:08d}"))
        assert account is not None and account.default_payment_method_id is not None
        found.append((account.id, account.default_payment_method_id))
    return found


def summary(seconds: list[float], calls: int) -> dict[str, float]:
    ordered = sorted(seconds)
    return {
        "changes": len(seconds),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 2),
        "calls_per_change": round(calls / len(seconds), 1),
        "ms_per_call": round(statistics.median(ordered) * 1000 / (calls / len(seconds)), 2),
    }


async def measure(transport: str, base: str, changes: int, first: int) -> dict[str, Any]:
    if transport == "soap":
        config = SoapConfig(f"{base}{SOAP_PATH}", CREDENTIALS.username, CREDENTIALS.password)
        adapter_soap, bare_soap = ZuoraSoap(config), ZuoraSoap(config)
        adapter = ZuoraAdapter(SoapTransport(adapter_soap))
        adapter_calls = counted(adapter_soap._http)
        bare_calls = counted(bare_soap._http)
        await bare_soap._sign_in()
        bare_change: Callable[[str, str, int], Awaitable[None]] = BareSoap(bare_soap).change
    else:
        rest = ZuoraRest(RestConfig(base, CREDENTIALS.client_id, CREDENTIALS.client_secret))
        adapter = ZuoraAdapter(RestTransport(rest))
        adapter_calls = counted(rest._http)
        bare_client = httpx.AsyncClient(base_url=base)
        bare_calls = counted(bare_client)
        token = (
            await bare_client.post(
                "/oauth/token",
                data={
                    "client_id": CREDENTIALS.client_id,
                    "client_secret": CREDENTIALS.client_secret,
                    "grant_type": "client_credentials",
                },
            )
        ).json()["access_token"]
        bare_change = BareRest(bare_client, token).change
    targets = await customers(adapter, first, 2 * changes)
    await adapter.find_account(AccountLookup(number="A00000101"))  # signed in, like bare
    adapter_calls.calls = bare_calls.calls = 0
    timings: dict[str, list[float]] = {"adapter": [], "bare": []}
    for index in range(changes):
        for side in ("adapter", "bare"):  # alternate, so both see the same emulator state
            account_id, old_id = targets[2 * index + (side == "bare")]
            number = first + 2 * index + (side == "bare")
            started = time.perf_counter()
            if side == "adapter":
                await adapter_change(adapter, account_id, old_id, number)
            else:
                await bare_change(account_id, old_id, number)
            timings[side].append(time.perf_counter() - started)
    await adapter.close()
    if transport == "soap":
        await bare_soap.close()
    else:
        await bare_client.aclose()
    adapter_figures = summary(timings["adapter"], adapter_calls.calls)
    bare_figures = summary(timings["bare"], bare_calls.calls)
    return {
        "adapter": adapter_figures,
        "bare": bare_figures,
        "overhead_p50_ms": round(adapter_figures["p50_ms"] - bare_figures["p50_ms"], 2),
        "ratio_p50": round(adapter_figures["p50_ms"] / bare_figures["p50_ms"], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--changes", type=int, default=200, help="changes per side and transport")
    args = parser.parse_args()
    from gateway.core.log import configure_logging

    configure_logging("WARNING", "console")  # the adapter logs each REST call at INFO
    port = free_port()
    emulator = start_emulator(port, customers=4 * args.changes)
    base = f"http://127.0.0.1:{port}"
    try:
        results = {
            "soap": asyncio.run(measure("soap", base, args.changes, first=1)),
            "rest": asyncio.run(measure("rest", base, args.changes, first=2 * args.changes + 1)),
        }
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)
    print(f"\nfull SEPA change against the Zuora emulator ({args.changes} per side, loopback HTTP)")
    print(f"{'transport':10} {'side':8} {'p50 ms':>8} {'p95 ms':>8} {'calls':>6} {'ms/call':>8}")
    for transport, figures in results.items():
        for side in ("bare", "adapter"):
            row = figures[side]
            print(
                f"{transport:10} {side:8} {row['p50_ms']:8.2f} {row['p95_ms']:8.2f}"
                f" {row['calls_per_change']:6.1f} {row['ms_per_call']:8.2f}"
            )
        print(
            f"{transport:10} adapter adds {figures['overhead_p50_ms']:.2f} ms at p50"
            f" ({figures['ratio_p50']:.2f}x the bare sequence)"
        )
    checks: list[Ratio | Bound] = [
        Ratio(
            f"{transport}: a SEPA change through ZuoraAdapter, p50 ms",
            figures["adapter"]["p50_ms"],
            f"{transport}: the bare {'zeep' if transport == 'soap' else 'httpx'} sequence, p50 ms",
            figures["bare"]["p50_ms"],
            at_most=TARGET_RATIO,
        )
        for transport, figures in results.items()
    ]
    finish(report("zuora_adapter", checks, {"changes": args.changes, "results": results}))


if __name__ == "__main__":
    main()
