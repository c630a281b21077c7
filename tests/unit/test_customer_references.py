"""The customer references are listed once (gateway.core.customers): the table class and the
API's struct, which declare them by hand, are held to that list; and only the query module
builds queries on change_requests (tests/unit/test_query_modules.py holds the SQL to it)."""

import re
from pathlib import Path

from gateway.change_requests.schemas import CustomerRefs
from gateway.change_requests.tables import ChangeRequest
from gateway.core.customers import CUSTOMER_REFERENCES

ROOT = Path(__file__).resolve().parents[2]


def test_the_table_and_the_api_struct_declare_every_customer_reference() -> None:
    columns = {column._meta.name for column in ChangeRequest._meta.columns}
    assert set(CUSTOMER_REFERENCES) <= columns
    assert set(CustomerRefs.__struct_fields__) == {*CUSTOMER_REFERENCES, "company_name"}


def test_only_the_query_module_builds_queries_on_change_requests() -> None:
    builder = re.compile(r"ChangeRequest\.(select|update|insert|delete|objects|raw|count|exists)")
    elsewhere = [
        path.relative_to(ROOT).as_posix()
        for folder in ("gateway", "admin")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if not path.match("gateway/change_requests/queries.py") and builder.search(path.read_text())
    ]
    assert elsewhere == []
