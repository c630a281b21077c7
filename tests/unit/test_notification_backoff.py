"""When a failing notification is tried again, when it has failed for good, and which URLs an
endpoint may have."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.core.errors import BillingError, ErrorCode
from gateway.notifications.backoff import next_attempt_at, retry_delay, total_retry_window
from gateway.notifications.delivery import outcome_of_status
from gateway.notifications.urls import check_endpoint_url, refusal_of_host
from settings import Settings

SCHEDULE = (5.0, 300.0, 1800.0)


def test_each_failed_try_waits_by_the_schedule_then_the_delivery_has_failed() -> None:
    assert retry_delay(SCHEDULE, 1) == timedelta(seconds=5)
    assert retry_delay(SCHEDULE, 2) == timedelta(minutes=5)
    assert retry_delay(SCHEDULE, 3) == timedelta(minutes=30)
    assert retry_delay(SCHEDULE, 4) is None  # four tries in all: the schedule is spent
    assert retry_delay(SCHEDULE, 0) is None


def test_the_next_try_is_counted_from_the_failed_one() -> None:
    now = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
    assert next_attempt_at(SCHEDULE, 2, now) == datetime(2026, 12, 7, 10, 5, tzinfo=UTC)
    assert next_attempt_at(SCHEDULE, 9, now) is None


def test_the_default_schedule_keeps_trying_for_more_than_a_day() -> None:
    schedule = Settings().notification_retry_schedule
    assert total_retry_window(schedule) > timedelta(hours=24)
    assert list(schedule) == sorted(schedule)  # backing off, never hurrying up


def test_a_schedule_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BG_NOTIFICATION_RETRY_SCHEDULE", "0.2, 1,30")
    assert Settings().notification_retry_schedule == (0.2, 1.0, 30.0)
    monkeypatch.setenv("BG_NOTIFICATION_RETRY_SCHEDULE", "5,0")
    with pytest.raises(ValueError, match="each above 0"):
        Settings()


@pytest.mark.parametrize(
    ("status", "delivered"), [(200, True), (204, True), (301, False), (404, False), (503, False)]
)
def test_only_a_2xx_delivers(status: int, delivered: bool) -> None:
    outcome = outcome_of_status(status, 12)
    assert outcome.delivered is delivered
    assert outcome.response_status == status
    if 300 <= status < 400:
        assert outcome.error is not None and "not followed" in outcome.error


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://evil.example.net/hook", ErrorCode.NOTIFICATION_HOST_NOT_ALLOWED),
        ("https://user:pw@hooks.example.com/hook", ErrorCode.NOTIFICATION_URL_INVALID),
        ("ftp://hooks.example.com/hook", ErrorCode.NOTIFICATION_URL_INVALID),
        ("https://hooks.example.com/a b", ErrorCode.NOTIFICATION_URL_INVALID),
        ("https://hooks.example.com/" + "a" * 2000, ErrorCode.NOTIFICATION_URL_INVALID),
        ("https://hooks.example.com:99999/", ErrorCode.NOTIFICATION_URL_INVALID),
        ("http://127.0.0.1:9000/hook", ErrorCode.NOTIFICATION_HOST_NOT_ALLOWED),
    ],
)
def test_urls_refused(url: str, code: ErrorCode) -> None:
    with pytest.raises(BillingError) as refused:
        check_endpoint_url(url, ("hooks.example.com", "127.0.0.1:8443"))
    assert refused.value.code is code


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("HTTPS://HOOKS.example.com:443/Zendesk?x=1", "https://hooks.example.com/Zendesk?x=1"),
        ("https://hooks.example.com", "https://hooks.example.com/"),
        ("http://hooks.example.com:80/hook", "http://hooks.example.com/hook"),
        ("http://127.0.0.1:8443/hook", "http://127.0.0.1:8443/hook"),
        ("https://[::1]:8443/hook", "https://[::1]:8443/hook"),
        ("https://[::1]:443/hook", "https://[::1]/hook"),
    ],
)
def test_one_address_has_one_spelling(typed: str, stored: str) -> None:
    """Scheme and host in lower case, the scheme's own port and an empty path as the receiver
    reads them; the path and query as written."""
    allowed = ("hooks.example.com", "127.0.0.1:8443", "::1")
    assert check_endpoint_url(typed, allowed) == stored


def test_allowed_urls_pass_and_a_host_taken_off_the_list_is_refused_at_sending() -> None:
    allowed = ("hooks.example.com", "127.0.0.1:8443")
    assert check_endpoint_url("https://HOOKS.example.com/zendesk?x=1", allowed)
    assert check_endpoint_url("http://127.0.0.1:8443/hook", allowed)
    assert refusal_of_host("https://hooks.example.com/zendesk", allowed) is None
    refusal = refusal_of_host("https://hooks.example.com/zendesk", ("other.example.com",))
    assert refusal is not None and "BG_NOTIFICATION_ALLOWED_HOSTS" in refusal
