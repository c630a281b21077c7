from piccolo.columns import JSONB, BigSerial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class AuditRecord(Table, tablename="audit_records"):
    """Append-only (a trigger refuses UPDATE and DELETE). Holds masked data only."""

    id = BigSerial(primary_key=True)
    occurred_at = Timestamptz(default=TimestamptzNow())
    actor_type = Varchar(length=20)  # api_key | staff | system
    actor_id = Varchar(length=100)
    action = Varchar(length=100, index=True)  # <resource>.<verb>.<outcome>
    target_type = Varchar(length=50)
    target_id = Text(index=True)  # ids, or "system:ticket" (up to 121 characters)
    request_id = Varchar(length=100, null=True, default=None)
    data = JSONB()
