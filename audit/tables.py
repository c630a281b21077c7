from piccolo.columns import JSONB, BigSerial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class AuditRecord(Table, tablename="audit_records"):
    """Append-only (a trigger refuses UPDATE and DELETE). `audit/store.py` writes it: the
    metadata in clear, the payload encrypted under the subject's key, a MAC over both."""

    id = BigSerial(primary_key=True)
    occurred_at = Timestamptz(default=TimestamptzNow())
    actor_type = Varchar(length=20)  # api_key | staff | system
    actor_id = Varchar(length=100)
    # <resource>.<verb>.<outcome>; indexed with occurred_at (a migration), which serves both
    action = Varchar(length=100)
    target_type = Varchar(length=50)
    target_id = Text(index=True)  # ids, or "system:ticket" (up to 121 characters)
    request_id = Varchar(length=100, null=True, default=None)
    data = JSONB(null=True)  # entries written before the payload was encrypted
    subject = Varchar(length=200, null=True, default=None)  # whose data key seals payload
    payload = Text(null=True, default=None)  # encrypted; 'erased': its subject was forgotten
    mac = Text(null=True, default=None)  # v1:<nonce>:<HMAC-SHA256>, audit/mac.py
