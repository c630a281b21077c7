"""The links from the back office to the providers' dashboards (gateway/provider_links.py): the
URL patterns of Zuora's and Stripe's own UIs, the configured or derived hosts, the emulators in
sandbox, ids quoted, no link without an id, and the partial that shows them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from jinja2 import Environment, FileSystemLoader, select_autoescape

from gateway.fulfilment_schemas import Checks, TargetState
from gateway.i18n import use_language
from gateway.i18n.templates import install
from gateway.provider_links import (
    ProviderRefs,
    account_link,
    customer_links,
    request_links,
    stripe_connect_link,
)
from settings import Mode, Settings, SettingsError, get_settings, reset_settings

ZUORA_ID = "2c92c0f9638b8faa01638bad0b930698"
TEMPLATES = Path(__file__).resolve().parents[2] / "admin" / "templates"


def production(**values: Any) -> Settings:
    """Settings as production would hold them (validation of keys aside)."""
    return Settings.model_construct(mode=Mode.PRODUCTION, **values)


def sandbox(**values: Any) -> Settings:
    return Settings.model_construct(
        mode=Mode.SANDBOX, zuora_emulator_port=18010, stripe_emulator_port=18011, **values
    )


def url(link: Any) -> str:
    assert link is not None
    return str(link.url)


def test_a_zuora_account_id_opens_its_account_page_on_zuoras_us_ui_by_default() -> None:
    link = account_link(production(), "zuora", ZUORA_ID)
    assert url(link) == (f"https://www.zuora.com/apps/CustomerAccount.do?method=view&id={ZUORA_ID}")
    assert link is not None and link.provider == "zuora" and link.label == "Open in Zuora"


def test_an_account_number_opens_zuoras_search_for_it_quoted() -> None:
    assert url(account_link(production(), "zuora", "A00012345")) == (
        "https://www.zuora.com/platform/apps/search?searchTerm=A00012345&searchObjectType=account"
    )
    odd = url(account_link(production(), "zuora", "A 1&searchObjectType=invoice#x"))
    assert "searchTerm=A+1%26searchObjectType%3Dinvoice%23x&searchObjectType=account" in odd


@pytest.mark.parametrize(
    ("api", "ui"),
    [
        (
            {"zuora_rest_url": "https://rest.eu.zuora.com", "zuora_transport": "rest"},
            "eu.zuora.com",
        ),
        ({"zuora_rest_url": "https://rest.zuora.com", "zuora_transport": "rest"}, "www.zuora.com"),
        ({"zuora_rest_url": "https://rest.sandbox.eu.zuora.com"}, "sandbox.eu.zuora.com"),
        (
            {"zuora_soap_url": "https://apisandbox.zuora.com/apps/services/a/84.0"},
            "apisandbox.zuora.com",
        ),
        ({"zuora_soap_url": "https://zuora.internal.example/soap"}, "www.zuora.com"),
    ],
)
def test_unset_the_zuora_ui_is_the_host_of_the_api_in_use(api: dict[str, str], ui: str) -> None:
    assert url(account_link(production(**api), "zuora", ZUORA_ID)).startswith(f"https://{ui}/apps/")


def test_a_configured_zuora_ui_wins_and_its_trailing_slash_is_ignored() -> None:
    settings = production(
        zuora_dashboard_url="https://eu.zuora.com/", zuora_rest_url="https://rest.zuora.com"
    )
    assert url(account_link(settings, "zuora", ZUORA_ID)).startswith("https://eu.zuora.com/apps/")


def test_stripe_links_are_live_or_test_by_the_key_and_ids_are_quoted() -> None:
    live = production(stripe_api_key="rk_live_x")
    test = production(stripe_api_key="sk_test_x")
    assert (
        url(account_link(live, "stripe", "cus_123"))
        == "https://dashboard.stripe.com/customers/cus_123"
    )
    assert url(account_link(test, "stripe", "cus_123")) == (
        "https://dashboard.stripe.com/test/customers/cus_123"
    )
    assert url(stripe_connect_link(live, "acct_1")) == (
        "https://dashboard.stripe.com/connect/accounts/acct_1"
    )
    assert url(account_link(live, "stripe", "cus_a/../b?c#d")) == (
        "https://dashboard.stripe.com/customers/cus_a%2F..%2Fb%3Fc%23d"
    )
    other = production(stripe_api_key="sk_live_x", stripe_dashboard_url="https://stripe.proxy/d/")
    assert url(account_link(other, "stripe", "cus_1")) == "https://stripe.proxy/d/customers/cus_1"


def test_in_sandbox_the_links_open_the_emulators_pages() -> None:
    settings = sandbox()
    assert url(account_link(settings, "zuora", "A00000101")) == (
        "http://127.0.0.1:18010/platform/apps/search?searchTerm=A00000101&searchObjectType=account"
    )
    assert url(account_link(settings, "stripe", "cus_1")) == (
        "http://127.0.0.1:18011/test/customers/cus_1"
    )
    assert url(stripe_connect_link(settings, "acct_1")) == (
        "http://127.0.0.1:18011/test/connect/accounts/acct_1"
    )


def test_a_sandbox_talking_to_real_providers_links_to_their_dashboards() -> None:
    settings = sandbox(
        zuora_soap_url="https://apisandbox.zuora.com/apps/services/a/84.0",
        stripe_api_key="sk_test_real",
    )
    assert url(account_link(settings, "zuora", ZUORA_ID)).startswith(
        "https://apisandbox.zuora.com/"
    )
    assert url(account_link(settings, "stripe", "cus_1")).startswith(
        "https://dashboard.stripe.com/test/"
    )


@pytest.mark.parametrize("missing", [None, "", "   "])
def test_a_missing_id_gives_no_link(missing: str | None) -> None:
    settings = production()
    assert account_link(settings, "zuora", missing) is None
    assert account_link(settings, "stripe", missing) is None
    assert stripe_connect_link(settings, missing) is None
    assert request_links(settings, ProviderRefs(missing, missing, missing)) == []


def test_a_requests_links_prefer_the_zuora_account_id_its_checks_read() -> None:
    settings = production()
    refs = ProviderRefs("A00000101", "cus_1", "acct_1")
    assert [link.provider for link in request_links(settings, refs)] == [
        "zuora",
        "stripe",
        "stripe",
    ]
    checks = Checks(
        computed_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        moment="manual",
        findings=[],
        targets=[
            TargetState(
                target="zuora_collection",
                provider="zuora",
                account_id=ZUORA_ID,
                account_name="Atelier",
                default_method_id=None,
            )
        ],
    )
    [zuora, *_] = request_links(settings, refs, checks)
    assert zuora.url.endswith(f"CustomerAccount.do?method=view&id={ZUORA_ID}")
    assert zuora.reference == ZUORA_ID


def test_the_customer_page_links_each_side_by_the_id_read_there() -> None:
    sides = [
        SimpleNamespace(provider="zuora", account=SimpleNamespace(id=ZUORA_ID)),
        SimpleNamespace(provider="stripe", account=SimpleNamespace(id="cus_1")),
        SimpleNamespace(provider="paypal", account=SimpleNamespace(id="P-1")),
    ]
    links = customer_links(production(), sides)
    assert [link.url for link in links] == [
        f"https://www.zuora.com/apps/CustomerAccount.do?method=view&id={ZUORA_ID}",
        "https://dashboard.stripe.com/customers/cus_1",
    ]


@pytest.mark.parametrize("bad", ["javascript:alert(1)", "dashboard.stripe.com", "https://x/ y"])
def test_a_dashboard_url_that_is_not_http_is_refused_at_start(
    bad: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reset_settings()
    monkeypatch.setenv("BG_STRIPE_DASHBOARD_URL", bad)
    try:
        with pytest.raises(SettingsError, match="BG_STRIPE_DASHBOARD_URL"):
            get_settings()
    finally:
        reset_settings()


def render(links: list[Any], language: str) -> str:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"])
    )
    install(environment)
    with use_language(language, "UTC"):
        return environment.get_template("_provider_links.html").render(provider_links=links)


def test_the_links_open_a_new_tab_without_opener_or_referrer_in_the_readers_language() -> None:
    links = request_links(production(), ProviderRefs("A1", "cus_<1>", None))
    shown = render(links, "en")
    assert shown.count('target="_blank" rel="noopener noreferrer"') == 2
    assert ">Open in Zuora</a>" in shown and ">Open in Stripe</a>" in shown
    assert 'href="https://dashboard.stripe.com/customers/cus_%3C1%3E"' in shown
    assert "<1>" not in shown  # the reference in the title is escaped too
    french = render(links, "fr")
    assert "Open in Zuora" not in french and "Zuora" in french
    assert render([], "en").strip() == ""
