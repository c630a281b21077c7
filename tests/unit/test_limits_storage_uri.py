"""A bad BG_LIMITS_STORAGE_URI is named at start, and its password is never repeated."""

import pytest

from gateway.edge.limits_storage import limits_storage
from settings import Settings, SettingsError


@pytest.mark.parametrize(
    "uri", ["redis://:s3cret@cache:6379/0", "async+nosuch://user:s3cret@cache:1/0"]
)
def test_a_bad_uri_is_refused_without_its_password(uri: str) -> None:
    with pytest.raises(SettingsError, match="BG_LIMITS_STORAGE_URI") as refused:
        limits_storage(Settings(limits_storage_uri=uri))
    assert "s3cret" not in str(refused.value)


def test_a_redis_uri_gives_a_store_with_timeouts() -> None:
    """A Redis that hangs must answer as one that is down (503), not hold requests."""
    storage = limits_storage(Settings(limits_storage_uri="async+redis://127.0.0.1:6379/9"))
    client = storage.bridge.storage  # type: ignore[attr-defined]  (limits 5: redis-py inside)
    options = client.connection_pool.connection_kwargs
    assert options["socket_timeout"] == options["socket_connect_timeout"] == 1.0
