"""The sandbox demo: an API key of one client (every scope but all-clients), and requests from
two demo customers filed with it."""

from __future__ import annotations

from datetime import date

import typer

from audit.entry import SYSTEM
from gateway.api_keys.scopes import ALL_SCOPES, Scope
from gateway.api_keys.service import ApiClient, issue_key
from gateway.api_keys.tables import ApiKey
from gateway.change_requests.schemas import (
    CustomerRefs,
    IbanChangeCreate,
    IbanChangeDetails,
    PlanChangeCreate,
    PlanChangeDetails,
    Requester,
    TicketRef,
)
from gateway.change_requests.service import ChangeRequestService
from gateway.crypto import Cipher
from gateway.fraud.wiring import blocklist_service
from gateway.staff.roles import Role
from gateway.staff.service import create_staff
from gateway.staff.tables import StaffUser
from settings import Settings

DEMO_KEY_NAME = "demo"
DEMO_CLIENT = "demo-support"  # the demo support tool's organisation: its keys share requests
# Sandbox only, on 127.0.0.1: one well-known password so the demo can be picked up any time.
DEMO_PASSWORD = "sandbox-demo-password"  # noqa: S105 (sandbox demo, printed by `run`)
DEMO_STAFF = (
    ("sam", "sam@example.com", Role.SPECIALIST),
    ("sasha", "sasha@example.com", Role.SPECIALIST),
    ("lee", "lee@example.com", Role.TEAM_LEAD),
    ("ada", "ada@example.com", Role.ADMIN),
)
# Demo customers, the same references the provider emulators will hold.
ATELIER = CustomerRefs(
    zuora_account_id="A00000101",
    stripe_customer_id="cus_DemoAtelier01",
    backoffice_id="shop-101",
    company_name="Atelier Lumière SARL",
)
BRASSERIE = CustomerRefs(
    zuora_account_id="A00000102",
    stripe_customer_id="cus_DemoBrasserie2",
    stripe_connect_account_id="acct_DemoBrasserie",
    backoffice_id="shop-102",
    company_name="Brasserie du Port SAS",
)
AGENT = Requester(name="Camille (support)", email="camille@example.com", agent_id="agent-7")


async def seed_demo_staff() -> None:
    """One account per role (two specialists, to show that each sees only their own queue)."""
    for username, email, role in DEMO_STAFF:
        if not await StaffUser.exists().where(StaffUser.username == username):
            await create_staff(username, email, role, SYSTEM, password=DEMO_PASSWORD)


def demo_sign_in_help(base_url: str) -> str:
    accounts = ", ".join(f"{name} ({role.value})" for name, _, role in DEMO_STAFF)
    return (
        f"  back office {base_url}/staff/login\n"
        f"              accounts: {accounts}\n"
        f"              password: {DEMO_PASSWORD}\n"
        "              the first sign-in sets up an authenticator app (scan the QR code);\n"
        "              no phone? `billing-gateway user code <name>` prints the current code\n"
    )


async def seed_demo(settings: Settings) -> None:
    await seed_demo_staff()
    if await ApiKey.exists().where(ApiKey.name == DEMO_KEY_NAME):
        typer.echo(
            "demo data already present (the demo API key was printed on the first run; "
            "`billing-gateway api-key create` issues another)"
        )
        return
    # Every scope but all-clients: the demo key is one support tool's, as a real one would be.
    scopes: list[Scope] = [s for s in ALL_SCOPES if s is not Scope.CHANGE_REQUESTS_ALL_CLIENTS]
    issued = await issue_key(DEMO_KEY_NAME, scopes, client=DEMO_CLIENT, actor=SYSTEM)
    client = ApiClient(issued.id, issued.name, frozenset(issued.scopes), None, issued.client)
    service = ChangeRequestService(settings, Cipher(settings.keys), blocklist_service())
    await service.create(
        IbanChangeCreate(
            ticket=TicketRef(
                system="zendesk", id="1001", url="https://example.zendesk.com/agent/tickets/1001"
            ),
            customer=ATELIER,
            requester=AGENT,
            contact_reasons=["Billing > Payment method > Bank details change"],
            payload=IbanChangeDetails(
                iban="FR7630006000011234567890189",
                account_holder="Atelier Lumière SARL",
                account_holder_email="compta@atelier-lumiere.example",
                targets=["zuora_collection", "stripe_customer_debit"],
            ),
        ),
        client,
        idempotency=None,
    )
    await service.create(
        PlanChangeCreate(
            ticket=TicketRef(system="intercom", id="2002"),
            customer=BRASSERIE,
            requester=AGENT,
            contact_reasons=["Account > Subscription > Upsell"],
            payload=PlanChangeDetails(
                subscription_ref="A-S00000102",
                current_tier="solo",
                target_tier="team",
                consent_channel="recorded_call",
                contract_signed_on=date(2018, 11, 5),
            ),
        ),
        client,
        idempotency=None,
    )
    typer.echo(
        f"\nDemo API key (client {DEMO_CLIENT}; every scope but all-clients), shown this once; "
        "keep it:\n\n"
        f"    export BG_API_KEY={issued.secret}\n"
    )
