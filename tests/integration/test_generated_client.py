"""A Python client generated from the served OpenAPI document (openapi-python-client, offline)
files a change request and reads it back from the real server: the document is good enough to
build a working client from, with no hand-written glue."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from tests.database import LiveServer
from tests.payloads import VALID_IBAN, iban_change

_PACKAGE = "billing_gateway_client"


@pytest.fixture(scope="module")
def generated(
    live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ModuleType]:
    """`openapi-python-client generate` over the document the server serves, imported."""
    where = tmp_path_factory.mktemp("client")
    document = where / "openapi.json"
    document.write_bytes(httpx.get(f"{live_server.base_url}/schema/openapi.json").content)
    tools = Path(sys.executable).parent  # the generator runs ruff over what it wrote
    result = subprocess.run(
        [
            str(tools / "openapi-python-client"),
            "generate",
            "--path",
            str(document),
            "--meta",
            "none",
            "--output-path",
            str(where / _PACKAGE),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ.get('PATH', '')}"},
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # Every schema and operation made it into the client (a PDF body stays raw bytes: the
    # generator has no model for one, and says so).
    assert "Unable to" not in output and "removal of" not in output, output
    sys.path.insert(0, str(where))
    try:
        yield importlib.import_module(_PACKAGE)
    finally:
        sys.path.remove(str(where))
        for name in [n for n in sys.modules if n == _PACKAGE or n.startswith(f"{_PACKAGE}.")]:
            del sys.modules[name]


def _module(generated: ModuleType, name: str) -> ModuleType:
    return importlib.import_module(f"{generated.__name__}.{name}")


def test_the_generated_client_files_a_request_and_reads_it_back(
    generated: ModuleType, live_server: LiveServer, api_key: str
) -> None:
    models = _module(generated, "models")
    create = _module(generated, "api.change_requests.create_change_request")
    read = _module(generated, "api.change_requests.get_change_request")
    listing = _module(generated, "api.change_requests.list_change_requests")
    ticket = f"zendesk:{uuid.uuid4().int % 10**8}"
    body = models.IbanChangeCreate.from_dict({**iban_change(), "ticket": ticket})

    with generated.AuthenticatedClient(base_url=live_server.base_url, token=api_key) as client:
        filed = create.sync_detailed(client=client, body=body, idempotency_key=str(uuid.uuid4()))
        assert filed.status_code == 201, filed.content
        created = filed.parsed
        assert isinstance(created, models.ChangeRequestRead)
        assert created.status.value == "new" and created.ticket == ticket

        again = read.sync(client=client, request_id=created.id)
        assert isinstance(again, models.ChangeRequestRead)
        assert again.id == created.id and again.ticket_display == ticket.replace(":", " #")
        # masked, as every read is: the generated model carries no full IBAN either
        assert again.payload.iban_masked.endswith(VALID_IBAN.replace(" ", "")[-4:])
        assert VALID_IBAN.replace(" ", "") not in json.dumps(again.to_dict())

        found = listing.sync(client=client, ticket=ticket)
        assert [item.id for item in found.items] == [created.id]

        missing = read.sync(client=client, request_id=uuid.uuid4())
        assert isinstance(missing, models.Problem)
        assert missing.code == models.ErrorCode.CHANGE_REQUEST_NOT_FOUND
        assert missing.type_.endswith("/problems/change_request_not_found")


def test_the_generated_client_reads_a_problem_type_page(
    generated: ModuleType, live_server: LiveServer
) -> None:
    models = _module(generated, "models")
    page = _module(generated, "api.problems.get_problem_type")
    with generated.Client(
        base_url=live_server.base_url, headers={"Accept": "application/json"}
    ) as client:
        explained = page.sync(client=client, code="iban_checksum_failed")
    assert isinstance(explained, models.ProblemTypeRead)
    assert explained.status == 422 and "check digits" in explained.title
