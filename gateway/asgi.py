"""ASGI entry point for servers that import the app (`uvicorn gateway.asgi:app --workers N`).

DATABASE_URL must be set: the CLI sets it before starting such workers. Such a server must also
take `gateway.serving.uvicorn_options` (header caps, trusted proxies), as `serve` does.
"""

from gateway.app import create_app
from gateway.core.log import configure_logging, resolve_format
from settings import get_settings

_settings = get_settings()
configure_logging(_settings.log_level, resolve_format(_settings))
app = create_app(_settings)
