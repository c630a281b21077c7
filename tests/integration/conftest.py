from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
async def empty_tables(clean: None) -> None:
    """Every integration test starts from empty tables."""


@pytest.fixture(autouse=True)
def process_services_kept() -> Iterator[None]:
    """A test that builds a second app (other settings: production mode, a stricter limit)
    registers that app's services as the process's; the session app's come back after it, so
    later tests' workers reach the emulators, not the other app's providers."""
    from gateway.cheques import wiring as cheques
    from gateway.corrections import wiring as corrections
    from gateway.fulfilment import wiring as fulfilment

    kept = (corrections._service, fulfilment._service, cheques._service)
    yield
    if kept[0] is not None:
        corrections._service = kept[0]
    if kept[1] is not None:
        fulfilment._service = kept[1]
    if kept[2] is not None:
        cheques._service = kept[2]
