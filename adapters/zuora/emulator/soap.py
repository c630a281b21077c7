"""The emulator's SOAP face: Zuora's document/literal envelopes for login, query, queryMore,
create, update, delete and amend (UpdateProduct, Cancellation, with preview), and Zuora's faults."""

from __future__ import annotations

from collections import deque
from decimal import Decimal
from typing import Any

from lxml import etree

from adapters.zuora.emulator.amendments import Amendments, ChargeUpdate, Outcome, as_date
from adapters.zuora.emulator.state import Tenant, ZObject, ZuoraError
from adapters.zuora.emulator.zoql import Page, QueryEngine

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
API = "http://api.zuora.com/"
OBJECTS = "http://object.api.zuora.com/"
FAULTS = "http://fault.api.zuora.com/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NSMAP = {"soapenv": SOAP_ENV, "ns1": API, "ns2": OBJECTS, "fns": FAULTS, "xsi": XSI}
# Zuora's fault element for each error code; anything else is an UnexpectedErrorFault.
_FAULT_OF_CODE = {
    "INVALID_LOGIN": "LoginFault",
    "INVALID_TYPE": "InvalidTypeFault",
    "INVALID_VALUE": "InvalidValueFault",
    "MALFORMED_QUERY": "MalformedQueryFault",
    "INVALID_FIELD": "MalformedQueryFault",
}
# Codes that fail a whole call; the others fail one object inside a SaveResult.
_CALL_FAULTS = {"INVALID_LOGIN", "INVALID_SESSION", "MALFORMED_QUERY", "INVALID_FIELD"}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value.isoformat()) if hasattr(value, "isoformat") else str(value)


def _local(element: etree._Element) -> str:
    return str(etree.QName(element).localname)


def _zobject(element: etree._Element) -> tuple[str, ZObject]:
    kind = element.get(f"{{{XSI}}}type", "").split(":")[-1]
    fields: ZObject = {}
    for child in element:
        if _local(child) == "fieldsToNull":
            fields[child.text or ""] = None
        elif child.get(f"{{{XSI}}}nil") != "true":
            fields[_local(child)] = child.text
    return kind, fields


class SoapFace:
    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant
        self.queries = QueryEngine(tenant)
        self.amendments = Amendments(tenant)
        self.received: deque[bytes] = deque(maxlen=500)  # request bodies, for tests to check

    def handle(self, body: bytes) -> tuple[int, bytes, bool]:
        """The HTTP status and body, and whether a write was committed."""
        self.received.append(body)
        name = ""
        try:
            envelope = etree.fromstring(body)
            call = envelope.find(f"{{{SOAP_ENV}}}Body")
            name = _local(call[0]) if call is not None and len(call) else ""
        except etree.XMLSyntaxError:
            pass
        status, answer = self._handle(body)
        return status, answer, status == 200 and name in ("create", "update", "delete", "amend")

    def _handle(self, body: bytes) -> tuple[int, bytes]:
        try:
            envelope = etree.fromstring(body)
        except etree.XMLSyntaxError:
            return 500, self._fault(ZuoraError("UNKNOWN_ERROR", "malformed request"))
        call = envelope.find(f"{{{SOAP_ENV}}}Body")
        if call is None or len(call) == 0:
            return 500, self._fault(ZuoraError("UNKNOWN_ERROR", "no operation"))
        operation = call[0]
        name = _local(operation)
        try:
            if name != "login":
                session = envelope.findtext(f".//{{{API}}}SessionHeader/{{{API}}}session")
                self.tenant.check_session(session)
                if self.tenant.faults.lock_competition > 0:
                    self.tenant.faults.lock_competition -= 1
                    raise ZuoraError(
                        "LOCK_COMPETITION", "Operation failed due to a lock competition"
                    )
            handler = getattr(self, f"_{name}", None)
            if handler is None:
                raise ZuoraError("UNKNOWN_ERROR", f"operation {name} is not emulated")
            return 200, self._envelope(handler(operation, envelope))
        except ZuoraError as error:
            return 500, self._fault(error)

    # -- operations ---------------------------------------------------------------------------

    def _login(self, operation: etree._Element, _envelope: etree._Element) -> etree._Element:
        token = self.tenant.login(
            operation.findtext(f"{{{API}}}username") or "",
            operation.findtext(f"{{{API}}}password") or "",
        )
        response = etree.Element(f"{{{API}}}loginResponse", nsmap=NSMAP)
        result = etree.SubElement(response, f"{{{API}}}result")
        etree.SubElement(result, f"{{{API}}}Session").text = token
        etree.SubElement(result, f"{{{API}}}ServerUrl").text = "emulator"
        return response

    def _query(self, operation: etree._Element, envelope: etree._Element) -> etree._Element:
        page = self.queries.query(
            operation.findtext(f"{{{API}}}queryString") or "", self._batch_size(envelope)
        )
        return self._query_response("queryResponse", page)

    def _queryMore(self, operation: etree._Element, envelope: etree._Element) -> etree._Element:  # noqa: N802 (Zuora's name)
        page = self.queries.query_more(
            operation.findtext(f"{{{API}}}queryLocator") or "", self._batch_size(envelope)
        )
        return self._query_response("queryMoreResponse", page)

    def _create(self, operation: etree._Element, _envelope: etree._Element) -> etree._Element:
        return self._save("createResponse", operation, self.tenant.create)

    def _update(self, operation: etree._Element, _envelope: etree._Element) -> etree._Element:
        return self._save("updateResponse", operation, self.tenant.update)

    def _delete(self, operation: etree._Element, _envelope: etree._Element) -> etree._Element:
        kind = operation.findtext(f"{{{API}}}type") or ""
        response = etree.Element(f"{{{API}}}deleteResponse", nsmap=NSMAP)
        for object_id in operation.findall(f"{{{API}}}ids"):
            result = etree.SubElement(response, f"{{{API}}}result")
            try:
                self.tenant.delete(kind, object_id.text or "")
                etree.SubElement(result, f"{{{API}}}id").text = object_id.text
                etree.SubElement(result, f"{{{API}}}success").text = "true"
            except ZuoraError as error:
                self._error(result, "errors", error)
                etree.SubElement(result, f"{{{API}}}success").text = "false"
        return response

    def _amend(self, operation: etree._Element, _envelope: etree._Element) -> etree._Element:
        response = etree.Element(f"{{{API}}}amendResponse", nsmap=NSMAP)
        for request in operation.findall(f"{{{API}}}requests"):
            result = etree.SubElement(response, f"{{{API}}}results")
            preview = (request.findtext(f".//{{{API}}}EnablePreviewMode") or "").lower() == "true"
            try:
                # One amendment per request: what the gateway sends.
                amendment = request.find(f"{{{API}}}Amendments")
                if amendment is None:
                    raise ZuoraError(
                        "MISSING_REQUIRED_VALUE", "An amend request needs an amendment."
                    )
                self._amendment_result(result, self._apply(amendment, preview), preview)
            except ZuoraError as error:
                if error.code in _CALL_FAULTS:
                    raise
                self._error(result, "Errors", error)
                etree.SubElement(result, f"{{{API}}}Success").text = "false"
        return response

    def _apply(self, amendment: etree._Element, preview: bool) -> Outcome:
        def field(name: str) -> str:
            return amendment.findtext(f"{{{OBJECTS}}}{name}") or ""

        subscription_id = field("SubscriptionId")
        if self.amendments.current(subscription_id)["Id"] != subscription_id:
            raise ZuoraError(
                "INVALID_VALUE", "The subscription has been amended: use its latest version."
            )
        effective = as_date(field("EffectiveDate") or field("ContractEffectiveDate"))
        kind = field("Type")
        if kind == "Cancellation" and not preview:
            return self.amendments.cancel(subscription_id, effective, name=field("Name"))
        if kind != "UpdateProduct":
            raise ZuoraError("INVALID_VALUE", f"The amendment type {kind} is not emulated.")
        updates = [
            ChargeUpdate(
                quantity=Decimal(charge.findtext(f"{{{OBJECTS}}}Quantity") or "0"),
                charge_number=charge.findtext(f"{{{OBJECTS}}}ChargeNumber"),
                product_rate_plan_charge_id=charge.findtext(
                    f"{{{OBJECTS}}}ProductRatePlanChargeId"
                ),
            )
            for charge in amendment.iterfind(f".//{{{API}}}RatePlanCharge")
        ]
        return self.amendments.update_product(
            subscription_id, updates, effective, preview=preview, name=field("Name")
        )

    @staticmethod
    def _amendment_result(result: etree._Element, outcome: Outcome, preview: bool) -> None:
        if outcome.amendment_id:
            etree.SubElement(result, f"{{{API}}}AmendmentIds").text = outcome.amendment_id
        if preview:
            data = etree.SubElement(result, f"{{{API}}}InvoiceDatas")
            invoice = etree.SubElement(data, f"{{{API}}}Invoice")
            for name, value in sorted(outcome.invoice.items()):
                etree.SubElement(invoice, f"{{{OBJECTS}}}{name}").text = _text(value)
            for item in outcome.invoice_items:
                node = etree.SubElement(data, f"{{{API}}}InvoiceItem")
                for name, value in sorted(item.items()):
                    etree.SubElement(node, f"{{{OBJECTS}}}{name}").text = _text(value)
        else:
            etree.SubElement(result, f"{{{API}}}SubscriptionId").text = outcome.subscription["Id"]
        etree.SubElement(result, f"{{{API}}}Success").text = "true"
        etree.SubElement(result, f"{{{API}}}TotalDeltaMrr").text = _text(outcome.delta_mrr)

    # -- helpers ------------------------------------------------------------------------------

    def _save(self, name: str, operation: etree._Element, apply: Any) -> etree._Element:
        response = etree.Element(f"{{{API}}}{name}", nsmap=NSMAP)
        for element in operation.findall(f"{{{API}}}zObjects"):
            kind, fields = _zobject(element)
            result = etree.SubElement(response, f"{{{API}}}result")
            try:
                object_id = apply(kind, fields)
                etree.SubElement(result, f"{{{API}}}Id").text = object_id
                etree.SubElement(result, f"{{{API}}}Success").text = "true"
            except ZuoraError as error:
                if error.code in _CALL_FAULTS:
                    raise
                self._error(result, "Errors", error)
                etree.SubElement(result, f"{{{API}}}Success").text = "false"
        return response

    @staticmethod
    def _error(parent: etree._Element, tag: str, error: ZuoraError) -> None:
        node = etree.SubElement(parent, f"{{{API}}}{tag}")
        etree.SubElement(node, f"{{{API}}}Code").text = error.code
        etree.SubElement(node, f"{{{API}}}Message").text = error.message
        if error.field_name:
            etree.SubElement(node, f"{{{API}}}Field").text = error.field_name

    @staticmethod
    def _batch_size(envelope: etree._Element) -> int:
        size = envelope.findtext(f".//{{{API}}}QueryOptions/{{{API}}}batchSize")
        return max(1, min(int(size), 2000)) if size and size.isdigit() else 2000

    @staticmethod
    def _query_response(name: str, page: Page) -> etree._Element:
        response = etree.Element(f"{{{API}}}{name}", nsmap=NSMAP)
        result = etree.SubElement(response, f"{{{API}}}result")
        etree.SubElement(result, f"{{{API}}}done").text = _text(page.locator is None)
        locator = etree.SubElement(result, f"{{{API}}}queryLocator")
        if page.locator:
            locator.text = page.locator
        else:
            locator.set(f"{{{XSI}}}nil", "true")
        for kind, fields in page.records:
            record = etree.SubElement(result, f"{{{API}}}records")
            record.set(f"{{{XSI}}}type", f"ns2:{kind}")
            # In the WSDL's order (Zuora's: alphabetical, case aside), which zeep follows.
            others = sorted((key for key in fields if key != "Id"), key=str.lower)
            for field_name in ["Id", *others]:
                if fields.get(field_name) is not None:
                    etree.SubElement(record, f"{{{OBJECTS}}}{field_name}").text = _text(
                        fields[field_name]
                    )
        etree.SubElement(result, f"{{{API}}}size").text = str(page.size)
        return response

    @staticmethod
    def _envelope(payload: etree._Element) -> bytes:
        envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap=NSMAP)
        etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body").append(payload)
        return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))

    @staticmethod
    def _fault(error: ZuoraError) -> bytes:
        envelope = etree.Element(f"{{{SOAP_ENV}}}Envelope", nsmap=NSMAP)
        fault = etree.SubElement(
            etree.SubElement(envelope, f"{{{SOAP_ENV}}}Body"), f"{{{SOAP_ENV}}}Fault"
        )
        etree.SubElement(fault, "faultcode").text = f"fns:{error.code}"
        etree.SubElement(fault, "faultstring").text = error.message
        detail = etree.SubElement(
            etree.SubElement(fault, "detail"),
            f"{{{FAULTS}}}{_FAULT_OF_CODE.get(error.code, 'UnexpectedErrorFault')}",
        )
        etree.SubElement(detail, f"{{{FAULTS}}}FaultCode").text = error.code
        etree.SubElement(detail, f"{{{FAULTS}}}FaultMessage").text = error.message
        return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))
