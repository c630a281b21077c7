from adapters.zuora.errors import TRANSIENT, from_zuora_error, from_zuora_reason
from gateway.core.errors import HTTP_STATUS, ErrorCode


def test_known_codes_map_to_the_gateways_vocabulary() -> None:
    error = from_zuora_error("CANNOT_DELETE", "closing the old payment method")
    assert error.code is ErrorCode.PROVIDER_CONFLICT and HTTP_STATUS[error.code] == 409
    assert "default" in error.detail
    assert error.extra == {"provider": "zuora", "provider_code": "CANNOT_DELETE"}


def test_busy_codes_say_the_request_can_be_retried() -> None:
    for code in TRANSIENT:
        error = from_zuora_error(code, "any step")
        assert error.code is ErrorCode.PROVIDER_UNAVAILABLE and "retried" in error.detail


def test_an_unknown_code_is_an_internal_error_that_keeps_the_raw_code() -> None:
    error = from_zuora_error("SOMETHING_NEW", "creating the SEPA payment method")
    assert error.code is ErrorCode.INTERNAL_ERROR
    assert error.extra["provider_code"] == "SOMETHING_NEW"
    assert "creating the SEPA payment method" in error.detail


def test_busy_answers_tell_the_client_when_to_come_back() -> None:
    assert from_zuora_error("LOCK_COMPETITION", "any step").headers == {"Retry-After": "5"}
    assert from_zuora_error("INVALID_ID", "any step").headers == {}


def test_rest_reason_codes_map_by_their_category_and_keep_the_code() -> None:
    # Real codes: 58730050 (Orders preview, lock competition), 50000040 (no such key).
    busy = from_zuora_reason(58730050, "previewing the quantity change")
    assert busy.code is ErrorCode.PROVIDER_UNAVAILABLE
    assert busy.extra["provider_code"] == "58730050"
    missing = from_zuora_reason(50000040, "looking up the account")
    assert missing.code is ErrorCode.PROVIDER_NOT_FOUND
    rule = from_zuora_reason(53100030, "closing the old payment method")
    assert rule.code is ErrorCode.PROVIDER_CONFLICT
    invalid = from_zuora_reason(53100320, "applying the quantity change")
    assert invalid.code is ErrorCode.PROVIDER_REJECTED
    unknown = from_zuora_reason(53100099, "refunding the payment")
    assert unknown.code is ErrorCode.INTERNAL_ERROR
    assert unknown.extra["provider_code"] == "53100099"
