"""The Zuora emulator in the sandbox: beside the API (`billing-gateway run`), its callouts
signed as the gateway checks them, or alone (`billing-gateway emulator`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from adapters.provider import Emulator, EmulatorError
from adapters.zuora.settings import ZuoraSettings


def zuora_emulator(settings: ZuoraSettings, gateway: str) -> Emulator | None:
    """In sandbox, the Zuora emulator (seeded with the demo customers) beside the API, unless
    Zuora's URLs point elsewhere; its tenant is kept in `<data dir>/emulators/zuora.json`
    across restarts, as the gateway's database is."""
    if not settings.zuora_emulated:
        return None
    _call_out_to(settings, f"{gateway}/v1/webhooks/zuora")
    app = standalone_emulator(settings, state_file=settings.data_dir / "emulators" / "zuora.json")
    return Emulator(app, settings.zuora_emulator_port, "BG_ZUORA_EMULATOR_PORT")


def _call_out_to(settings: ZuoraSettings, url: str) -> None:
    """The emulator's callouts go to this gateway, signed as the gateway checks them."""
    secrets = settings.zuora_callout_secrets
    given = {
        "URL": url,
        "USERNAME": settings.zuora_callout_username,
        "PASSWORD": settings.zuora_callout_password,
        "SECRET": secrets[0] if secrets else None,
    }
    for name, value in given.items():
        if value:
            os.environ.setdefault(f"ZUORA_EMULATOR_CALLOUT_{name}", value)


def standalone_emulator(
    settings: ZuoraSettings, *, state_file: Path | None, extra_customers: int = 0
) -> Any:
    """The emulator's app, seeded with the demo customers and `extra_customers` more
    (B00000001, B00000002, ...); EmulatorError when its state file cannot be read."""
    from adapters.zuora.emulator.app import create_emulator
    from adapters.zuora.emulator.persistence import StateFileError
    from adapters.zuora.emulator.seed import add_customer, seat_tiers_of, seed_demo
    from adapters.zuora.emulator.state import Tenant

    def seed(tenant: Tenant) -> None:
        seed_demo(tenant, seat_tiers_of(settings.plan_tiers))
        for number in range(1, extra_customers + 1):
            add_customer(
                tenant,
                account_number=f"B{number:08d}",
                name=f"Customer {number}",
                iban="DE89370400440532013000",
            )

    try:
        return create_emulator(state_file=state_file, seed=seed)
    except StateFileError as error:
        raise EmulatorError(str(error)) from None


def sandbox_help(settings: ZuoraSettings, api: str) -> str:
    if not settings.zuora_emulated:
        return ""
    return (
        f"  Zuora      SANDBOX emulator at {settings.zuora_emulator_base} "
        f"({settings.zuora_transport.value.upper()}; demo accounts A00000101-A00000103)\n"
        f'             try: curl -H "Authorization: Bearer $BG_API_KEY" '
        f"{api}/v1/customers/zuora/A00000101\n"
        "  corrections: both emulators also hold A-WRONG-CARD / cus_wrong_plan_card, "
        "A-WRONG-INVOICED / cus_wrong_plan_invoiced,\n"
        "             A-PREPAID / cus_prepaid_package, A-BIG-REFUND / cus_big_refund, "
        "A-YEN / cus_yen, A-DINAR / cus_dinar (README: Billing corrections)\n"
        "  cheques:   A-CHEQUE-EUR / cus_cheque_eur, A-CHEQUE-USD / cus_cheque_usd,\n"
        "             A-CHEQUE-GBP / cus_cheque_gbp, each with open invoices (README: Offline "
        "payments)\n"
    )
