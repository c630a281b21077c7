"""Database access: Piccolo on PostgreSQL, the embedded server when no DATABASE_URL is set."""

import os

# Piccolo finds its engine through this module path; set it before any table is used.
os.environ.setdefault("PICCOLO_CONF", "gateway.core.db.piccolo_conf")
