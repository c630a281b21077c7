from adapters.zuora.errors import TRANSIENT, from_zuora_error
from gateway.errors import HTTP_STATUS, ErrorCode


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
