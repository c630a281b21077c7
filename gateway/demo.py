"""The sandbox demo: an API key of one client (every scope but all-clients), staff of every role,
and requests filed with that key on which each flow of Apply can be tried from start to finish
against the sandbox emulators (their demo customers carry the same references):

- zendesk #1001: IBAN change at Zuora A00000101 and Stripe cus_DemoAtelier01 (old SEPA methods
  replaced);
- zendesk #1002: IBAN change at Zuora A00000102, a customer with a direct debit being collected:
  refused with `collection_in_flight` while it lasts;
- zendesk #1003: payout account change of Stripe Connect acct_DemoBrasserie (a team lead
  approves the plan before it runs);
- intercom #2002: upsell at Zuora A00000102 on a contract from 2018 (the contract gate);
- intercom #2003: upsell at Zuora A00000103, business to enterprise;
- intercom #2004: upsell of a Stripe subscription of cus_DemoAtelier01.

Two team leads: whoever applied or amended a request never approves it, so a request a lead
amended needs the other one.

Two operations members, olga (Olga Petit) and omar (Omar Haddad): they enter the mailed cheques
at /staff/cheques, numbered with their initials (OP-..., OH-...), and each closes the other's
batches (closing needs a second person). The emulators' cheque customers (Zuora A-CHEQUE-EUR,
-USD, -GBP; Stripe cus_cheque_eur, _usd, _gbp) each have three open invoices to pay.
"""

from __future__ import annotations

from datetime import date, timedelta

import typer

from audit.entry import SYSTEM
from gateway.api_keys.scopes import ALL_SCOPES, Scope
from gateway.api_keys.service import ApiClient, issue_key
from gateway.api_keys.tables import ApiKey
from gateway.change_requests.schemas import (
    ChangeRequestCreate,
    CustomerRefs,
    IbanChangeCreate,
    IbanChangeDetails,
    IdentityChecked,
    PlanChangeCreate,
    PlanChangeDetails,
    Requester,
    Target,
    TicketRef,
)
from gateway.change_requests.service import ChangeRequestService
from gateway.core.crypto import Cipher
from gateway.fraud.wiring import blocklist_service
from gateway.fulfilment.views import fulfilment_view
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
    ("lou", "lou@example.com", Role.TEAM_LEAD),
    ("ada", "ada@example.com", Role.ADMIN),
    ("olga", "olga@example.com", Role.OPERATIONS),
    ("omar", "omar@example.com", Role.OPERATIONS),
)
# First and last names, where the demo needs them: an operations member's initials number
# their cheques (OP-20261205-0001).
DEMO_NAMES = {"olga": ("Olga", "Petit"), "omar": ("Omar", "Haddad")}
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
ESTUDIO = CustomerRefs(
    zuora_account_id="A00000103", backoffice_id="shop-103", company_name="Estudio Sol SL"
)
AGENT = Requester(name="Camille (support)", email="camille@example.com", agent_id="agent-7")
BANK_DETAILS = "Billing > Payment method > Bank details change"
PAYOUT_DETAILS = "Account > Partner > Payout details"
UPSELL = "Account > Subscription > Upsell"
# The Stripe emulator's demo subscription of cus_DemoAtelier01 (adapters/stripe/emulator/seed.py).
STRIPE_DEMO_SUBSCRIPTION = "sub_DemoAtelier01"


def _iban_change(
    ticket: str,
    customer: CustomerRefs,
    iban: str,
    targets: list[Target],
    reason: str,
    identity: IdentityChecked,
) -> IbanChangeCreate:
    holder = customer.company_name or ""
    return IbanChangeCreate(
        ticket=TicketRef(
            system="zendesk", id=ticket, url=f"https://example.zendesk.com/agent/tickets/{ticket}"
        ),
        customer=customer,
        requester=AGENT,
        contact_reasons=[reason],
        identity=identity,
        payload=IbanChangeDetails(
            iban=iban,
            account_holder=holder,
            account_holder_email=f"compta@{customer.backoffice_id}.example",
            targets=targets,
        ),
    )


def _upsell(
    ticket: str, customer: CustomerRefs, subscription: str, tiers: tuple[str, str], signed: date
) -> PlanChangeCreate:
    return PlanChangeCreate(
        ticket=TicketRef(system="intercom", id=ticket),
        customer=customer,
        requester=AGENT,
        contact_reasons=[UPSELL],
        identity=IdentityChecked(name=customer.company_name),
        payload=PlanChangeDetails(
            subscription_ref=subscription,
            current_tier=tiers[0],
            target_tier=tiers[1],
            consent_channel="recorded_call",
            contract_signed_on=signed,
        ),
    )


def demo_requests() -> list[ChangeRequestCreate]:
    """One request per flow, each on a customer of the emulators' demo (published test IBANs)."""
    both: list[Target] = ["zuora_collection", "stripe_customer_debit"]
    # What the agent verified, as the emulators hold it (the Stripe customer's email).
    atelier = IdentityChecked(name=ATELIER.company_name, email="billing@shop-101.example")
    brasserie = IdentityChecked(name=BRASSERIE.company_name)
    partner = IdentityChecked(
        name=BRASSERIE.company_name,
        id_document="national_id_card",
        proof_of_address_dated=date.today() - timedelta(days=20),
    )
    return [
        _iban_change("1001", ATELIER, "FR7630006000011234567890189", both, BANK_DETAILS, atelier),
        _iban_change(
            "1002", BRASSERIE, "NL91ABNA0417164300", ["zuora_collection"], BANK_DETAILS, brasserie
        ),
        # The holder is the Connect account's legal name, as Stripe holds it.
        _iban_change(
            "1003",
            BRASSERIE,
            "DE02120300000000202051",
            ["stripe_connect_payout"],
            PAYOUT_DETAILS,
            partner,
        ),
        _upsell("2002", BRASSERIE, "A-S00000102", ("solo", "team"), date(2018, 11, 5)),
        _upsell("2003", ESTUDIO, "A-S00000103", ("business", "enterprise"), date(2021, 3, 1)),
        _upsell(
            "2004",
            CustomerRefs(
                stripe_customer_id="cus_DemoAtelier01",
                backoffice_id="shop-101",
                company_name=ATELIER.company_name,
            ),
            STRIPE_DEMO_SUBSCRIPTION,
            ("team", "business"),
            date(2022, 6, 1),
        ),
    ]


async def seed_demo_staff() -> None:
    """Every role: two specialists (each sees only their own queue), two team leads (the
    one who applied or amended a request never approves it: the other one does) and two
    operations members (the one who deposits a batch never closes it: the other one does)."""
    for username, email, role in DEMO_STAFF:
        if not await StaffUser.exists().where(StaffUser.username == username):
            first, last = DEMO_NAMES.get(username, ("", ""))
            await create_staff(
                username,
                email,
                role,
                SYSTEM,
                password=DEMO_PASSWORD,
                first_name=first,
                last_name=last,
            )


def demo_sign_in_help(base_url: str) -> str:
    accounts = ", ".join(f"{name} ({role.value})" for name, _, role in DEMO_STAFF)
    return (
        f"  back office {base_url}/staff/login\n"
        f"              accounts: {accounts}\n"
        f"              olga and omar enter the mailed cheques at {base_url}/staff/cheques\n"
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
    service = ChangeRequestService(
        settings, Cipher(settings.keys), blocklist_service(), runs_of=fulfilment_view
    )
    for filing in demo_requests():
        await service.create(filing, client, idempotency=None)
    typer.echo(
        f"\nDemo API key (client {DEMO_CLIENT}; every scope but all-clients), shown this once; "
        "keep it:\n\n"
        f"    export BG_API_KEY={issued.secret}\n"
    )
