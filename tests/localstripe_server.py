"""localstripe (a third-party fake Stripe) on loopback, with its state in this process only.

Left to itself it listens on every interface and keeps its state in /tmp/localstripe.pickle,
shared by every run on the machine; the tests start it through this module instead:

    python -m tests.localstripe_server <port>
"""

from __future__ import annotations

import sys

from aiohttp import web
from localstripe import resources
from localstripe.server import app


def main() -> None:
    port = int(sys.argv[1])
    # Never written to or read from the shared pickle: each run starts empty.
    resources.Store.dump_to_disk = lambda self: None  # type: ignore[method-assign]
    resources.Store.try_load_from_disk = lambda self: None  # type: ignore[method-assign]
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main()
