import pytest

from gateway.change_requests.bank_details import validate_iban
from gateway.errors import BillingError, ErrorCode


def test_valid_iban_gives_mask_bank_and_bic() -> None:
    result = validate_iban("fr76 3000 6000 0112 3456 7890 189", None)
    assert result.compact == "FR7630006000011234567890189"
    assert result.masked == "FR****0189"
    assert result.bic == "AGRIFRPPXXX"
    assert result.bank_name


@pytest.mark.parametrize(
    ("iban", "code"),
    [
        ("FR7630006000011234567890188", ErrorCode.IBAN_CHECKSUM_FAILED),
        ("FR763000600001123456789018", ErrorCode.IBAN_WRONG_LENGTH),
        ("US7630006000011234567890189", ErrorCode.IBAN_UNKNOWN_COUNTRY),
        ("FR76 3000/6000", ErrorCode.IBAN_INVALID),
        ("BR1800360305000010009795493C1", ErrorCode.IBAN_NOT_SEPA),
    ],
)
def test_each_iban_failure_has_its_own_code(iban: str, code: ErrorCode) -> None:
    with pytest.raises(BillingError) as refused:
        validate_iban(iban, None)
    assert refused.value.code is code
    assert iban.replace(" ", "") not in refused.value.detail


def test_wrong_length_names_the_expected_length() -> None:
    with pytest.raises(BillingError) as refused:
        validate_iban("FR763000600001123456789018", None)
    assert "27" in refused.value.detail and "26" in refused.value.detail


def test_bic_of_another_bank_is_refused() -> None:
    with pytest.raises(BillingError) as refused:
        validate_iban("FR7630006000011234567890189", "BNPAFRPP")
    assert refused.value.code is ErrorCode.BIC_MISMATCH


def test_bic_of_the_same_bank_is_accepted() -> None:
    assert validate_iban("FR7630006000011234567890189", "AGRIFRPP").bic == "AGRIFRPP"


def test_malformed_bic_is_refused() -> None:
    with pytest.raises(BillingError) as refused:
        validate_iban("FR7630006000011234567890189", "NOT A BIC")
    assert refused.value.code is ErrorCode.BIC_INVALID
