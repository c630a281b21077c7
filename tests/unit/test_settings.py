import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from settings import Mode, Settings, SettingsError, get_settings, reset_settings


@pytest.fixture(autouse=True)
def fresh_settings():  # type: ignore[no-untyped-def]
    reset_settings()
    yield
    reset_settings()


def test_production_refuses_to_start_without_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BG_MODE", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/x")
    monkeypatch.delenv("BG_ENCRYPTION_KEYS", raising=False)
    with pytest.raises(
        SettingsError, match="BG_ENCRYPTION_KEYS, BG_HASH_KEY, BG_AUDIT_SIGNING_KEY"
    ):
        get_settings()


def test_a_bad_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BG_PORT", "not-a-port")
    with pytest.raises(SettingsError, match="BG_PORT"):
        get_settings()


def test_sandbox_generates_keys_once_and_reuses_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BG_DATA_DIR", str(tmp_path))
    first = get_settings().keys
    reset_settings()
    second = get_settings().keys
    assert first == second
    assert (tmp_path / "keys.json").stat().st_mode & 0o077 == 0
    assert get_settings().mode is Mode.SANDBOX


def test_tier_table_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    tiers = [
        {
            "name": "one",
            "min_seats": 1,
            "max_seats": 1,
            "monthly_price_minor": 100,
            "currency": "EUR",
        },
        {
            "name": "more",
            "min_seats": 2,
            "max_seats": 9,
            "monthly_price_minor": 900,
            "currency": "EUR",
        },
    ]
    monkeypatch.setenv("BG_PLAN_TIERS", json.dumps(tiers))
    assert [tier.name for tier in get_settings().plan_tiers] == ["one", "more"]


def test_overlapping_tier_rules_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "BG_PLAN_TIERS",
        json.dumps(
            [
                {
                    "name": "x",
                    "min_seats": 3,
                    "max_seats": 1,
                    "monthly_price_minor": 1,
                    "currency": "EUR",
                }
            ]
        ),
    )
    with pytest.raises(SettingsError, match="BG_PLAN_TIERS"):
        get_settings()


def test_malformed_keys_stop_the_start_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BG_MODE", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/x")
    monkeypatch.setenv("BG_ENCRYPTION_KEYS", "k1:not-base64!")
    monkeypatch.setenv("BG_HASH_KEY", "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA==")
    monkeypatch.setenv("BG_AUDIT_SIGNING_KEY", "c2lnbmluZy1zZWVkLXNpZ25pbmctc2VlZC0zMmJ5dGU=")
    with pytest.raises(SettingsError, match="BG_ENCRYPTION_KEYS"):
        get_settings()


def test_every_secret_setting_is_hidden_on_the_admin_settings_page() -> None:
    from admin.settings_page import SECRET_FIELDS

    hidden_from_repr = {name for name, field in Settings.model_fields.items() if not field.repr}
    assert hidden_from_repr <= SECRET_FIELDS, hidden_from_repr - SECRET_FIELDS


def test_zuora_defaults_to_soap_and_a_tenant_wsdl_must_exist(tmp_path: Path) -> None:
    assert Settings().zuora_transport == "soap"
    with pytest.raises(ValidationError, match="BG_ZUORA_WSDL"):
        Settings(zuora_wsdl=tmp_path / "missing.wsdl")


def test_notifications_reach_this_machine_in_sandbox_and_only_named_hosts_in_production(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BG_NOTIFICATION_ALLOWED_HOSTS", raising=False)
    assert Settings(mode=Mode.SANDBOX).notification_hosts == ("127.0.0.1", "localhost")
    # Production's required keys are beside the point here: built without validation.
    production = Settings.model_construct(mode=Mode.PRODUCTION, notification_allowed_hosts=())
    assert production.notification_hosts == ()
    named = Settings(mode=Mode.SANDBOX, notification_allowed_hosts=("hooks.example.com",))
    assert named.notification_hosts == ("hooks.example.com",)


def test_secrets_come_from_files_named_after_their_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Compose and Kubernetes mount secrets as files: production starts from them alone."""
    import base64

    secrets = tmp_path / "secrets"
    secrets.mkdir()
    key = base64.b64encode(b"k" * 32).decode()
    (secrets / "BG_ENCRYPTION_KEYS").write_text(f"k1:{key}\n")
    (secrets / "BG_HASH_KEY").write_text(base64.b64encode(b"h" * 32).decode())
    (secrets / "BG_AUDIT_SIGNING_KEY").write_text(base64.b64encode(b"s" * 32).decode())
    (secrets / "DATABASE_URL").write_text("postgresql://from-file/db")
    monkeypatch.setenv("BG_SECRETS_DIR", str(secrets))
    monkeypatch.setenv("BG_MODE", "production")
    for name in ("BG_ENCRYPTION_KEYS", "BG_HASH_KEY", "BG_AUDIT_SIGNING_KEY", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert get_settings().database_url == "postgresql://from-file/db"
    reset_settings()
    monkeypatch.setenv("DATABASE_URL", "postgresql://from-env/db")  # the environment wins
    assert get_settings().database_url == "postgresql://from-env/db"


def test_a_missing_secrets_directory_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BG_SECRETS_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(SettingsError, match="BG_SECRETS_DIR"):
        get_settings()
