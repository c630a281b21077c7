"""How uvicorn serves the gateway: every place that serves the app passes these options."""

from __future__ import annotations

from typing import Any

from gateway.edge.header_limits import HeaderLimitedProtocol
from settings import Settings

# How long an idle keep-alive connection stays open. Longer than the idle timeout of the proxy
# or load balancer in front (60 s on AWS's ALB, nginx keeps its own upstream ones shorter), so
# that the proxy closes an idle connection first: with uvicorn's 5 s, a client or proxy that
# picks an idle connection just as the gateway closes it loses that request (a reset, a 502).
KEEP_ALIVE_SECONDS = 75


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    return {
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        # Capped heads: httptools' speed without its unbounded header buffer.
        "http": HeaderLimitedProtocol,
        # Only a listed proxy may name the client (right-most hop it does not trust); uvicorn's
        # default trusts X-Forwarded-For from any peer on 127.0.0.1, whatever is behind it.
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": list(settings.trusted_proxies),
    }
