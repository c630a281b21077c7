"""How uvicorn serves the gateway: every place that serves the app passes these options."""

from __future__ import annotations

from typing import Any

from gateway.edge.header_limits import HeaderLimitedProtocol
from settings import Settings


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        # Capped heads: httptools' speed without its unbounded header buffer.
        "http": HeaderLimitedProtocol,
        # Only a listed proxy may name the client (right-most hop it does not trust); uvicorn's
        # default trusts X-Forwarded-For from any peer on 127.0.0.1, whatever is behind it.
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": list(settings.trusted_proxies),
    }
