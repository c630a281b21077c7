import pytest
from schwifty.registry import get_iban_spec

from gateway.bank_details import compact_iban, validate_iban
from gateway.core.errors import BillingError, ErrorCode
from gateway.sepa_scope import SEPA_COUNTRIES
from tests.unit.iban_vectors import VECTORS, Vector


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
        ("FR76 3000!6000", ErrorCode.IBAN_INVALID),
        ("ES2121000418450200051331", ErrorCode.IBAN_NATIONAL_CHECK_FAILED),
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


def _vector_id(vector: Vector) -> str:
    return "".join(vector.iban.split()) + (f"+{vector.bic}" if vector.bic else "")


@pytest.mark.parametrize("vector", VECTORS, ids=_vector_id)
def test_published_vectors(vector: Vector) -> None:
    if vector.expected is None:
        result = validate_iban(vector.iban, vector.bic)
        assert result.masked.endswith(result.compact[-4:])
        return
    with pytest.raises(BillingError) as refused:
        validate_iban(vector.iban, vector.bic)
    assert refused.value.code == vector.expected, vector.source
    assert compact_iban(vector.iban) not in refused.value.detail


def test_wrong_national_check_digits_are_refused_with_an_actionable_sentence() -> None:
    # Spain's SWIFT example with its DC (bank check digits) 45 -> 46 and valid IBAN check digits.
    with pytest.raises(BillingError) as refused:
        validate_iban("ES29 2100 0418 4602 0005 1332", None)
    assert refused.value.code is ErrorCode.IBAN_NATIONAL_CHECK_FAILED
    assert "bank statement" in refused.value.detail


def test_layout_refusal_does_not_claim_a_national_check() -> None:
    with pytest.raises(BillingError) as refused:
        validate_iban("NL56 3003 0A17 1643 00", None)
    assert refused.value.code is ErrorCode.IBAN_INVALID
    assert "national" not in refused.value.detail


@pytest.mark.parametrize("check_digits", ["00", "01", "99"])
def test_check_digits_never_issued_are_a_checksum_failure(check_digits: str) -> None:
    # GB00..., GB01... are schwifty's vectors; NO99... is NO02 15037577003's mod-97 alias.
    iban = {"00": "GB00HLFX11016111455365", "01": "GB01BARC20714583608387"}.get(
        check_digits, "NO9915037577003"
    )
    with pytest.raises(BillingError) as refused:
        validate_iban(iban, None)
    assert refused.value.code is ErrorCode.IBAN_CHECKSUM_FAILED


def test_bic_of_another_cooperative_bank_is_refused_although_both_start_geno() -> None:
    # GLS Gemeinschaftsbank (43060967, GENODEM1GLS) and Sparda-Bank Hamburg (20690500, GENODEF1S11)
    with pytest.raises(BillingError) as refused:
        validate_iban("DE42430609677000534100", "GENODEF1S11")
    assert refused.value.code is ErrorCode.BIC_MISMATCH
    assert "GENODEM1GLS" in refused.value.detail
    assert validate_iban("DE42430609677000534100", "GENODEM1GLS").bic == "GENODEM1GLS"


def test_unlisted_branch_of_the_right_bank_is_accepted() -> None:
    # The registry lists only CaixaBank's head office BIC for bank code 2100.
    assert validate_iban("ES9121000418450200051332", "CAIXESBB123").bic == "CAIXESBB123"


def test_bic_is_compared_by_country_where_the_registry_does_not_know_the_bank() -> None:
    assert validate_iban("GI75NWBK000000007099453", "NWBKGIGI").bic == "NWBKGIGI"
    with pytest.raises(BillingError) as refused:
        validate_iban("GI75NWBK000000007099453", "NWBKGB2L")
    assert refused.value.code is ErrorCode.BIC_MISMATCH


@pytest.mark.parametrize("country", ["NC", "PF", "WF", "TF"])
def test_french_territories_outside_the_epc_list_are_not_sepa(country: str) -> None:
    assert country not in SEPA_COUNTRIES


def test_every_sepa_country_issues_ibans() -> None:
    for country in SEPA_COUNTRIES:
        assert get_iban_spec(country).iban_length > 0
