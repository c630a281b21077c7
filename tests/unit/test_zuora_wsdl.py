"""The project's own Zuora WSDL against Zuora's published a.84.0 WSDL: every operation, header,
element and field the adapter can send or read must exist there, with the same type."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from zeep import Client, Settings

import adapters.zuora
from tests.reference_files import ZUORA_WSDL, require

OURS = Path(adapters.zuora.__file__).parent / "zuora.wsdl"  # what the adapter loads by default
BINDING = "{http://api.zuora.com/}SoapBinding"
API, OBJECTS = "http://api.zuora.com/", "http://object.api.zuora.com/"


def _client(path: Path) -> Client:
    return Client(str(path), settings=Settings(strict=False))


@pytest.fixture(scope="module")
def published() -> Client:
    return _client(require(ZUORA_WSDL))


@pytest.fixture(scope="module")
def ours() -> Client:
    return _client(OURS)


def _fields(client: Client, qname: str) -> dict[str, str]:
    """Element name -> type name of a complex type, inherited elements included."""
    kind = client.wsdl.types.get_type(qname)
    return {name: str(element.type.qname) for name, element in kind.elements}


def _element_fields(client: Client, qname: str) -> dict[str, str]:
    element = client.wsdl.types.get_element(qname)
    return {name: str(child.type.qname) for name, child in element.type.elements}


def _headers(operation: Any) -> set[str]:
    header = operation.input.header
    return {str(element.qname) for _, element in header.type.elements} if header else set()


def test_every_operation_and_header_we_use_is_zuoras(ours: Client, published: Client) -> None:
    theirs = published.wsdl.bindings[BINDING]._operations
    for name, operation in ours.wsdl.bindings[BINDING]._operations.items():
        assert name in theirs, f"Zuora has no operation {name}"
        our_headers, their_headers = _headers(operation), _headers(theirs[name])
        assert our_headers <= their_headers, f"{name}: headers {our_headers - their_headers}"
        assert str(operation.input.body.qname) == str(theirs[name].input.body.qname)


def test_every_request_and_response_element_matches(ours: Client, published: Client) -> None:
    operations = ours.wsdl.bindings[BINDING]._operations
    for name in operations:
        for element in (f"{{{API}}}{name}", f"{{{API}}}{name}Response"):
            mine, theirs = _element_fields(ours, element), _element_fields(published, element)
            for field, kind in mine.items():
                assert theirs.get(field) == kind, (
                    f"{element}.{field}: {kind} vs {theirs.get(field)}"
                )


def _our_complex_types() -> list[str]:
    """Every named complex type our WSDL declares, read from the file itself."""
    tree = etree.parse(str(OURS))
    xs = {"xs": "http://www.w3.org/2001/XMLSchema"}
    names = []
    for schema in tree.xpath("//xs:schema", namespaces=xs):
        namespace = schema.get("targetNamespace")
        for kind in schema.xpath("xs:complexType[@name]", namespaces=xs):
            names.append(f"{{{namespace}}}{kind.get('name')}")
    return names


def test_the_type_list_covers_what_the_adapter_uses() -> None:
    names = {name.rsplit("}", 1)[1] for name in _our_complex_types()}
    assert {"Account", "PaymentMethod", "Subscription", "RatePlanCharge", "Amendment"} <= names
    assert {"AmendRequest", "AmendResult", "PreviewOptions", "Refund", "Invoice"} <= names


@pytest.mark.parametrize("type_name", _our_complex_types())
def test_every_field_we_send_or_read_exists_with_the_same_type(
    ours: Client, published: Client, type_name: str
) -> None:
    mine, theirs = _fields(ours, type_name), _fields(published, type_name)
    assert mine, type_name
    for field, kind in mine.items():
        assert field in theirs, f"{type_name} has no field {field} in Zuora's WSDL"
        assert theirs[field] == kind, f"{type_name}.{field}: ours {kind}, Zuora's {theirs[field]}"


def _error_codes(path: Path) -> set[str]:
    tree = etree.parse(str(path))
    found = tree.xpath(
        "//xs:simpleType[@name='ErrorCode']//xs:enumeration/@value",
        namespaces={"xs": "http://www.w3.org/2001/XMLSchema"},
    )
    return {str(value) for value in found}


def test_the_fault_codes_we_map_are_zuoras(published: Client) -> None:
    mine, theirs = _error_codes(OURS), _error_codes(ZUORA_WSDL)
    assert mine and mine <= theirs, mine - theirs


def _soap_selects() -> list[tuple[str, list[str]]]:
    """(object, fields) of every ZOQL select the SOAP transport writes, its field lists
    resolved from `adapters.zuora.mapping`."""
    import re

    import adapters.zuora.mapping as mapping
    import adapters.zuora.soap_transport as transport

    source = Path(transport.__file__).read_text()
    selects = []
    for fields, kind in re.findall(r"select (.+?) from (\w+)", source):
        named = re.fullmatch(r"\{(\w+)\}", fields)
        text = getattr(mapping, named.group(1)) if named else fields
        selects.append((kind, [field.strip() for field in text.split(",")]))
    return selects


def test_every_field_the_soap_transport_selects_is_in_our_wsdl(ours: Client) -> None:
    """zeep, not strict, drops a record's fields after one its WSDL lacks, silently (a bill-to
    contact read as all None, a tier read as 0): every field selected must be declared."""
    selects = _soap_selects()
    assert {kind for kind, _ in selects} >= {"Payment", "RatePlanCharge", "RatePlanChargeTier"}
    for kind, fields in selects:
        declared = _fields(ours, f"{{{OBJECTS}}}{kind}")
        missing = [field for field in fields if field not in declared]
        assert not missing, f"{kind}: {missing} selected, not in adapters/zuora/zuora.wsdl"
