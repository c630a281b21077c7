from piccolo.columns import UUID, Bytea, ForeignKey, Integer, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from gateway.api_keys.tables import ApiKey


class IdempotencyRecord(Table, tablename="idempotency_keys"):
    """One client's `Idempotency-Key`: who holds it, what was asked and what was answered."""

    id = UUID(primary_key=True)
    api_key = ForeignKey(references=ApiKey, on_delete=OnDelete.cascade)
    key = Varchar(length=255)
    fingerprint = Varchar(length=64)
    method = Varchar(length=10)
    path = Text()
    state = Varchar(length=16)  # running | done
    response_status = Integer(null=True, default=None)
    response_content_type = Varchar(length=100, null=True, default=None)
    response_body = Bytea(null=True, default=None)
    locked_at = Timestamptz(default=TimestamptzNow())
    holder = Integer(null=True, default=None)  # lease id of the process holding a running claim
    created_at = Timestamptz(default=TimestamptzNow(), index=True)
    completed_at = Timestamptz(null=True, default=None)
