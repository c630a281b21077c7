"""The OpenAPI document as a client generator and a developer reading /schema meet it: every
operation named explicitly and for good, real examples that never change and hold no personal
data, and every error documented as the problem body the gateway sends (the conventions at the
top of gateway/edge/openapi.py)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema_rs
import pytest
from litestar import Litestar
from litestar.handlers import HTTPRouteHandler

from gateway.core.errors import HTTP_STATUS, ErrorCode
from gateway.core.sensitive import sensitive_kind, strings_in

_LOWER_CAMEL = re.compile(r"^[a-z][a-z0-9]*(?:[A-Z][a-z0-9]*)*$")
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# Clients call these by name: a rename breaks every generated client. Add, never change.
STABLE_OPERATION_IDS = {
    ("post", "/v1/change-requests"): "createChangeRequest",
    ("get", "/v1/change-requests"): "listChangeRequests",
    ("get", "/v1/change-requests/{request_id}"): "getChangeRequest",
    ("post", "/v1/change-requests/{request_id}/apply"): "applyChangeRequest",
    ("post", "/v1/change-requests/{request_id}/cancel"): "cancelChangeRequest",
    ("get", "/v1/plans"): "listPlans",
    ("get", "/v1/capabilities"): "getCapabilities",
    ("get", "/v1/customers/{provider}/{reference}"): "getCustomer",
    ("get", "/v1/customers/{provider}/{reference}/invoices"): "listCustomerInvoices",
    ("get", "/v1/customers/{provider}/{reference}/payments"): "listCustomerPayments",
    ("get", "/v1/invoices/{provider}/{reference}/pdf"): "getInvoicePdf",
    ("get", "/v1/payments/{provider}/{reference}/receipt"): "getPaymentReceipt",
    ("post", "/v1/refunds"): "createRefund",
    ("post", "/v1/subscriptions/{provider}/{reference}/cancel"): "cancelSubscription",
    ("post", "/v1/invoices/{provider}/{reference}/void"): "voidInvoice",
    ("get", "/v1/corrections"): "listCorrections",
    ("get", "/v1/corrections/{correction_id}"): "getCorrection",
    ("get", "/v1/blocklist/entries"): "listBlocklistEntries",
    ("post", "/v1/blocklist/entries"): "createBlocklistEntry",
    ("get", "/v1/blocklist/entries/{entry_id}"): "getBlocklistEntry",
    ("delete", "/v1/blocklist/entries/{entry_id}"): "removeBlocklistEntry",
    ("post", "/v1/blocklist/imports"): "createBlocklistImport",
    ("get", "/v1/blocklist/imports/{import_id}"): "getBlocklistImport",
    ("post", "/v1/fraud/screen"): "screenForFraud",
    ("post", "/v1/cheques"): "recordCheque",
    ("get", "/v1/cheques"): "listCheques",
    ("get", "/v1/cheques/{cheque_id}"): "getCheque",
    ("post", "/v1/cheques/{cheque_id}/bounce"): "bounceCheque",
    ("get", "/v1/cheque-batches"): "listChequeBatches",
    ("get", "/v1/cheque-batches/{batch_id}"): "getChequeBatch",
    ("post", "/v1/cheque-batches/{batch_id}/close"): "closeChequeBatch",
    ("get", "/v1/cheque-batches/{batch_id}/slip"): "getChequeBatchSlip",
    ("get", "/v1/cheque-batches/{batch_id}/slip.csv"): "getChequeBatchSlipCsv",
    ("get", "/v1/cheque-reports/daily"): "getChequeReport",
    ("get", "/v1/cheque-reports/daily.csv"): "getChequeReportCsv",
    ("post", "/v1/webhooks/stripe"): "receiveStripeEvent",
    ("post", "/v1/webhooks/zuora"): "receiveZuoraCallout",
    ("get", "/health/live"): "getLiveness",
    ("get", "/health/ready"): "getReadiness",
    ("get", "/problems"): "listProblemTypes",
    ("get", "/problems/{code}"): "getProblemType",
}

_DUMP = (
    "import sys\n"
    "from litestar.serialization import encode_json\n"
    "from gateway.app import create_app\n"
    "from settings import get_settings\n"
    "sys.stdout.buffer.write(encode_json(create_app(get_settings()).openapi_schema.to_schema()))\n"
)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    """The document as a fresh process builds it (what `/schema/openapi.json` serves)."""
    built: dict[str, Any] = json.loads(_build_in_a_new_process(hash_seed="0"))
    return built


def _build_in_a_new_process(hash_seed: str) -> bytes:
    result = subprocess.run(
        [sys.executable, "-c", _DUMP],
        capture_output=True,
        env={**os.environ, "PYTHONHASHSEED": hash_seed},
        timeout=120,
        check=True,
    )
    return result.stdout


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method in _METHODS:
            if method in item:
                yield method, path, item[method]


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    resolved: dict[str, Any] = document["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return resolved


def _validator(document: dict[str, Any], schema: dict[str, Any]) -> Any:
    return jsonschema_rs.Draft202012Validator({**schema, "components": document["components"]})


async def test_the_served_document_is_built_the_same_at_every_start(
    http: httpx.AsyncClient, document: dict[str, Any]
) -> None:
    """No random example, no order that hangs on a hash seed: two processes, one document."""
    other = _build_in_a_new_process(hash_seed="4242")
    assert json.loads(other) == document
    assert other == _build_in_a_new_process(hash_seed="7")
    served = await http.get("/schema/openapi.json")
    assert served.json() == document


def test_every_operation_has_an_explicit_unique_lower_camel_case_id(
    app: Litestar, document: dict[str, Any]
) -> None:
    ids = [(method, path, op.get("operationId")) for method, path, op in _operations(document)]
    assert ids, "the document has no operation"
    badly_named = [
        (m, p, i) for m, p, i in ids if not isinstance(i, str) or not _LOWER_CAMEL.match(i)
    ]
    assert not badly_named, badly_named
    names = [str(i) for _, _, i in ids]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    # explicit on the decorator, not Litestar's generated name that happens to look right
    implicit = sorted(
        f"{method} {route.path}"
        for route in app.routes
        for handler in getattr(route, "route_handlers", [])
        if isinstance(handler, HTTPRouteHandler) and handler.resolve_include_in_schema()
        for method in handler.http_methods
        if method not in ("HEAD", "OPTIONS") and not isinstance(handler.operation_id, str)
    )
    assert not implicit, f"set operation_id on: {implicit}"


def test_operation_ids_never_change(document: dict[str, Any]) -> None:
    actual = {(method, path): op["operationId"] for method, path, op in _operations(document)}
    changed = {
        key: (name, actual.get(key))
        for key, name in STABLE_OPERATION_IDS.items()
        if actual.get(key) != name
    }
    assert not changed, changed


def test_every_request_body_has_a_valid_fixed_example(document: dict[str, Any]) -> None:
    checked = 0
    for method, path, operation in _operations(document):
        body = operation.get("requestBody")
        if body is None:
            continue
        for media_type, content in body["content"].items():
            schema = content["schema"]
            branches = schema.get("oneOf", [schema])
            for branch in branches:
                examples = _resolve(document, branch).get("examples")
                assert examples, f"{method} {path} ({media_type}, {branch}): no example"
                validator = _validator(document, branch)
                for example in examples:
                    errors = [e.message for e in validator.iter_errors(example)]
                    assert not errors, (method, path, example, errors)
                    checked += 1
    assert checked >= 10


def test_every_error_response_is_a_problem_with_examples_of_its_status(
    document: dict[str, Any],
) -> None:
    problem = {"$ref": "#/components/schemas/Problem"}
    validator = _validator(document, problem)
    for method, path, operation in _operations(document):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            where = f"{method} {path} {status}"
            assert set(response.get("content", {})) == {"application/problem+json"}, where
            content = response["content"]["application/problem+json"]
            assert content["schema"] == problem, where
            examples = content.get("examples")
            assert examples, f"{where}: no example"
            for name, example in examples.items():
                value = example["value"]
                assert value["code"] == name and value["status"] == int(status), where
                assert HTTP_STATUS[ErrorCode(value["code"])] == int(status), where
                assert value["type"].endswith(f"/problems/{value['code']}"), where
                errors = [e.message for e in validator.iter_errors(value)]
                assert not errors, (where, errors)


def test_code_is_an_enum_of_every_error_code(document: dict[str, Any]) -> None:
    code = document["components"]["schemas"]["Problem"]["properties"]["code"]
    assert _resolve(document, code)["enum"] == [c.value for c in ErrorCode]


def test_no_example_holds_a_card_number_or_an_iban(document: dict[str, Any]) -> None:
    found = {
        text: kind
        for text in strings_in(document, numbers=True)
        if (kind := sensitive_kind(text)) is not None
    }
    assert not found, found
