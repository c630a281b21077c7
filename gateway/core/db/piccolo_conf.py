"""Piccolo's engine and app registry. The URL is resolved by `gateway.core.db.server` beforehand."""

import os

from piccolo.conf.apps import AppRegistry

from gateway.core.db.sturdy import SturdyPostgresEngine
from settings import get_settings

_url = os.environ.get("DATABASE_URL")
if not _url:
    raise RuntimeError(
        "DATABASE_URL is not set: call gateway.core.db.server.ensure_database() first"
    )

DB = SturdyPostgresEngine(config={"dsn": _url}, log_queries=False)
POOL_MAX_SIZE = get_settings().db_pool_max

APP_REGISTRY = AppRegistry(apps=["gateway.piccolo_app"])
