from datetime import date

import pytest

from gateway.change_requests.plan_policy import decide
from gateway.core.errors import BillingError, ErrorCode
from settings import Settings

TODAY = date(2026, 11, 23)


@pytest.fixture
def settings() -> Settings:
    return Settings()


def test_upgrade_to_the_next_tier(settings: Settings) -> None:
    decision = decide(
        settings,
        current="solo",
        target="team",
        committed=True,
        contract_signed_on=date(2020, 1, 1),
        today=TODAY,
    )
    assert decision.direction == "upgrade"
    assert decision.target.max_seats == 4
    assert decision.target.monthly_price_minor == 4900
    assert not decision.needs_new_contract


def test_contract_signed_before_april_2019_needs_a_new_contract(settings: Settings) -> None:
    decision = decide(
        settings,
        current="solo",
        target="team",
        committed=False,
        contract_signed_on=date(2019, 3, 31),
        today=TODAY,
    )
    assert decision.needs_new_contract
    on_the_day = decide(
        settings,
        current="solo",
        target="team",
        committed=False,
        contract_signed_on=date(2019, 4, 1),
        today=TODAY,
    )
    assert not on_the_day.needs_new_contract


def test_committed_plan_is_never_downgraded(settings: Settings) -> None:
    with pytest.raises(BillingError) as refused:
        decide(
            settings,
            current="business",
            target="team",
            committed=True,
            contract_signed_on=date(2020, 1, 1),
            today=TODAY,
        )
    assert refused.value.code is ErrorCode.DOWNGRADE_NOT_ALLOWED
    assert "complaint" in refused.value.detail


def test_uncommitted_plan_may_go_down(settings: Settings) -> None:
    decision = decide(
        settings,
        current="business",
        target="team",
        committed=False,
        contract_signed_on=date(2020, 1, 1),
        today=TODAY,
    )
    assert decision.direction == "downgrade"


@pytest.mark.parametrize(
    ("current", "target", "code"),
    [
        ("solo", "platinum", ErrorCode.UNKNOWN_TIER),
        ("gold", "team", ErrorCode.UNKNOWN_TIER),
        ("team", "team", ErrorCode.TIER_UNCHANGED),
    ],
)
def test_tier_mistakes(settings: Settings, current: str, target: str, code: ErrorCode) -> None:
    with pytest.raises(BillingError) as refused:
        decide(
            settings,
            current=current,
            target=target,
            committed=False,
            contract_signed_on=date(2020, 1, 1),
            today=TODAY,
        )
    assert refused.value.code is code


def test_future_contract_date_is_refused(settings: Settings) -> None:
    with pytest.raises(BillingError):
        decide(
            settings,
            current=None,
            target="team",
            committed=False,
            contract_signed_on=date(2027, 1, 1),
            today=TODAY,
        )
