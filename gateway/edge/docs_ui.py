"""The API docs UI, served by the gateway itself: /schema works with no network.

Swagger UI 5 (it reads OpenAPI 3.1) from the files the `swagger-ui-py` package ships, under
/schema/assets; Litestar's render plugins would load it from a CDN. A Content-Security-Policy
on every /schema page lets the browser load nothing from elsewhere.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from litestar import Router
from litestar.datastructures import ResponseHeader
from litestar.openapi.plugins import OpenAPIRenderPlugin, SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

DOCS_PATH = "/schema"
ASSETS = f"{DOCS_PATH}/assets"


def _package_files(package: str) -> Path:
    """A package's folder, found without importing it (swagger_ui's code is for other
    frameworks; only its files are used)."""
    spec = find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {package} package is missing: pip install swagger-ui-py")
    return Path(next(iter(spec.submodule_search_locations)))


SWAGGER_UI_FILES = _package_files("swagger_ui") / "static"

# Swagger UI's start-up script is inline (Litestar writes the document into the page), hence
# 'unsafe-inline'; everything else comes from the gateway or nowhere.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def docs_render_plugins() -> list[OpenAPIRenderPlugin]:
    """Swagger UI at /schema and /schema/swagger, from the gateway's own files."""
    return [
        SwaggerRenderPlugin(
            path="/swagger",
            js_url=f"{ASSETS}/swagger-ui-bundle.js",
            css_url=f"{ASSETS}/swagger-ui.css",
            standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
            favicon=f"<link rel='icon' type='image/png' href='{ASSETS}/favicon-32x32.png'>",
        )
    ]


def docs_router() -> Router:
    """The router Litestar adds the docs pages and /schema/openapi.json to."""
    return Router(
        DOCS_PATH,
        route_handlers=[
            create_static_files_router(
                path="/assets",
                directories=[SWAGGER_UI_FILES],
                include_in_schema=False,
                name="docs_assets",
            )
        ],
        include_in_schema=False,
        response_headers=[
            ResponseHeader(name="Content-Security-Policy", value=DOCS_POLICY),
            ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
        ],
    )
