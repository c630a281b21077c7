import pytest


@pytest.fixture(autouse=True)
async def empty_tables(clean: None) -> None:
    """Every integration test starts from empty tables."""
