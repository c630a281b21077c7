"""A problem's `type` is a link that works: the gateway's own page explaining the code, HTML for
the agent who clicks it, JSON for the tool that follows it."""

from __future__ import annotations

import uuid

import httpx

from gateway.core.errors import HTTP_STATUS, ErrorCode
from gateway.problem_types import PROBLEM_TYPES
from tests.database import auth


async def test_a_problem_type_leads_to_the_page_explaining_its_code(
    http: httpx.AsyncClient, api_key: str
) -> None:
    missing = await http.get(f"/v1/change-requests/{uuid.uuid4()}", headers=auth(api_key))
    problem = missing.json()
    assert problem["code"] == "change_request_not_found"
    assert problem["type"] == "http://127.0.0.1/problems/change_request_not_found"
    assert problem["title"] == "No such change request"

    page = await http.get(problem["type"], headers={"Accept": "text/html,*/*;q=0.8"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    explained = PROBLEM_TYPES[ErrorCode.CHANGE_REQUEST_NOT_FOUND]
    assert "<h1>No such change request</h1>" in page.text
    assert "HTTP 404" in page.text
    assert explained.meaning in page.text and explained.action in page.text
    assert "default-src 'none'" in page.headers["content-security-policy"]

    as_json = await http.get(problem["type"], headers={"Accept": "application/json"})
    assert as_json.headers["content-type"].startswith("application/json")
    assert as_json.json() == {
        "code": "change_request_not_found",
        "status": 404,
        "title": explained.title,
        "meaning": explained.meaning,
        "action": explained.action,
        "url": "/problems/change_request_not_found",
    }
    assert "Accept" in as_json.headers["vary"]


async def test_the_page_shows_field_names_as_code(
    http: httpx.AsyncClient,
) -> None:
    page = await http.get("/problems/duplicate_open_request")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "<code>existing_id</code>" in page.text


async def test_the_list_names_every_code_with_its_status(http: httpx.AsyncClient) -> None:
    listed = (await http.get("/problems", headers={"Accept": "application/json"})).json()
    assert [item["code"] for item in listed["items"]] == [code.value for code in ErrorCode]
    assert all(item["status"] == HTTP_STATUS[ErrorCode(item["code"])] for item in listed["items"])
    page = await http.get("/problems")
    assert page.headers["content-type"].startswith("text/html")
    assert all(f"href='/problems/{code.value}'" in page.text for code in ErrorCode)


async def test_an_unknown_code_is_a_404_problem(http: httpx.AsyncClient) -> None:
    response = await http.get("/problems/no_such_code", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "/problems lists them all" in response.json()["detail"]


async def test_every_problem_the_edge_answers_links_to_the_host_it_was_called_at(
    http: httpx.AsyncClient,
) -> None:
    response = await http.get("/v1/change-requests", headers={"Host": "billing.example.net"})
    assert response.status_code == 401
    assert response.json()["type"] == "http://billing.example.net/problems/unauthenticated"
