"""`/problems/{code}`: the page a problem's `type` URL points at, explaining the code.

HTML for a person (a browser), JSON for a program (`Accept: application/json`); both from
gateway/problem_types.py. Public: no API key, nothing in it depends on who asks.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Operation, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.params import PathParameter
from msgspec import Struct

from gateway.core.errors import HTTP_STATUS, BillingError, ErrorCode
from gateway.edge.auth import PUBLIC_OPT
from gateway.edge.openapi import problems
from gateway.edge.problems import PROBLEM_PAGES_PATH
from gateway.problem_types import problem_type_of

_HTML = "text/html"
_JSON = "application/json"
# The pages style themselves and load nothing.
_PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
)
_CODE_SPAN = re.compile(r"`([^`]+)`")
_CODES = frozenset(code.value for code in ErrorCode)


class ProblemTypeRead(Struct, kw_only=True):
    code: ErrorCode
    status: int  # the HTTP status a problem with this code has
    title: str
    meaning: str  # what happened
    action: str  # what the support agent, or the tool, should do next
    url: str  # this page


class ProblemTypeList(Struct, kw_only=True):
    items: list[ProblemTypeRead]


@dataclass
class _AlsoHtml(Operation):
    """Document the 200 as JSON and as the HTML page a browser gets."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if isinstance(ok, OpenAPIResponse) and ok.content is not None:
            ok.content[_HTML] = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))


def _read(code: ErrorCode) -> ProblemTypeRead:
    explained = problem_type_of(code)
    return ProblemTypeRead(
        code=code,
        status=HTTP_STATUS[code],
        title=explained.title,
        meaning=explained.meaning,
        action=explained.action,
        url=f"{PROBLEM_PAGES_PATH}/{code.value}",
    )


def _text(sentence: str) -> str:
    return _CODE_SPAN.sub(r"<code>\1</code>", html.escape(sentence, quote=False))


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(title)} · billing-gateway</title><style>"
        "body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;"
        "line-height:1.5;color:#1f2328}code{background:#f0f2f4;padding:0 .25rem;border-radius:3px}"
        "dt{font-weight:600;margin-top:1rem}dd{margin-left:0}"
        "table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3rem .5rem;"
        "border-bottom:1px solid #d0d7de;vertical-align:top}</style></head>"
        f"<body>{body}</body></html>"
    )


def _one_page(item: ProblemTypeRead) -> str:
    return _page(
        item.title,
        f"<p><a href='{PROBLEM_PAGES_PATH}'>All problem codes</a></p>"
        f"<h1>{html.escape(item.title)}</h1>"
        f"<p><code>{item.code.value}</code> · HTTP {item.status}</p><dl>"
        f"<dt>What it means</dt><dd>{_text(item.meaning)}</dd>"
        f"<dt>What to do</dt><dd>{_text(item.action)}</dd></dl>"
        "<p>The problem's <code>detail</code> says what was wrong with this request, and its "
        "<code>request_id</code> is how support finds it in the logs.</p>",
    )


def _list_page(items: list[ProblemTypeRead]) -> str:
    rows = "".join(
        f"<tr><td><a href='{item.url}'><code>{item.code.value}</code></a></td>"
        f"<td>{item.status}</td><td>{html.escape(item.title)}</td></tr>"
        for item in items
    )
    return _page(
        "Problem codes",
        "<h1>Problem codes</h1><p>Every error of the API is "
        "<code>application/problem+json</code> with one of these <code>code</code>s; its "
        "<code>type</code> links to the code's page.</p>"
        f"<table><tr><th>code</th><th>HTTP</th><th>title</th></tr>{rows}</table>",
    )


def _answer(request: Request[Any, Any, Any], json: Struct, page: str) -> Response[Any]:
    wanted = request.accept.best_match([_HTML, _JSON], default=_HTML)
    headers = {"Vary": "Accept"}
    if wanted == _JSON:
        return Response(json, media_type=_JSON, headers=headers)
    return Response(
        page, media_type=_HTML, headers={**headers, "Content-Security-Policy": _PAGE_POLICY}
    )


class ProblemPagesController(Controller):
    path = PROBLEM_PAGES_PATH
    tags = ["problems"]
    opt = {PUBLIC_OPT: True}

    @get(
        "/",
        operation_id="listProblemTypes",
        operation_class=_AlsoHtml,
        summary="Every problem code, its HTTP status and title",
        description="HTML for a browser; JSON with `Accept: application/json`.",
    )
    async def list_problem_types(
        self, request: Request[Any, Any, Any]
    ) -> Response[ProblemTypeList]:
        items = [_read(code) for code in ErrorCode]
        return _answer(request, ProblemTypeList(items=items), _list_page(items))

    @get(
        "/{code:str}",
        operation_id="getProblemType",
        operation_class=_AlsoHtml,
        responses=problems(400, 404),
        summary="What a problem code means and what to do about it",
        description="The page a problem's `type` URL points at. HTML for a browser; JSON with "
        "`Accept: application/json`.",
    )
    async def get_problem_type(
        self,
        code: Annotated[str, PathParameter(pattern=r"^[a-z0-9_]+$", max_length=64)],
        request: Request[Any, Any, Any],
    ) -> Response[ProblemTypeRead]:
        if code not in _CODES:
            raise BillingError(
                ErrorCode.NOT_FOUND,
                f"No problem code is called {code!r}; {PROBLEM_PAGES_PATH} lists them all.",
            )
        item = _read(ErrorCode(code))
        return _answer(request, item, _one_page(item))
