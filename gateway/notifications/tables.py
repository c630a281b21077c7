"""The rows of notification delivery, as Piccolo sees them (piccolo-admin lists and filters
them); created by the migration 2026-12-07T10:30, written by gateway/notifications/ in SQL."""

from piccolo.columns import (
    JSONB,
    UUID,
    Array,
    BigSerial,
    Boolean,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class NotificationEndpoint(Table, tablename="notification_endpoints"):
    """Where a support tool hears about the events it chose; `client` NULL: every client's."""

    id = UUID(primary_key=True)
    url = Text()
    description = Text(default="")
    events = Array(base_column=Text())
    client = Text(null=True, default=None)
    language = Varchar(length=8, default="en")  # of the notes it is sent: en, fr, ar
    secret_ciphertext = Text(secret=True)  # gateway.core.crypto; the secret is shown once
    enabled = Boolean(default=True)
    disabled_at = Timestamptz(null=True, default=None)
    disabled_reason = Text(null=True, default=None)
    failing_since = Timestamptz(null=True, default=None)
    last_success_at = Timestamptz(null=True, default=None)
    created_by = JSONB()
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class NotificationDelivery(Table, tablename="notification_deliveries"):
    """One event for one endpoint: pending until delivered, or failed once the retry schedule
    is spent."""

    id = UUID(primary_key=True)
    event_id = UUID()  # notification_events.id, sent as `webhook-id`
    endpoint_id = ForeignKey(
        references=NotificationEndpoint, on_delete=OnDelete.cascade, null=False
    )
    status = Text(default="pending")  # pending, delivered, failed
    attempts = Integer(default=0)
    next_attempt_at = Timestamptz(null=True, default=None)
    last_attempt_at = Timestamptz(null=True, default=None)
    delivered_at = Timestamptz(null=True, default=None)
    last_response_status = Integer(null=True, default=None)
    resend_requested = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())


class NotificationAttempt(Table, tablename="notification_attempts"):
    """One request sent (or refused before sending: a host no longer allowed)."""

    id = BigSerial(primary_key=True)
    delivery_id = ForeignKey(
        references=NotificationDelivery, on_delete=OnDelete.cascade, null=False
    )
    attempted_at = Timestamptz(default=TimestamptzNow())
    duration_ms = Integer()
    response_status = Integer(null=True, default=None)
    error = Text(null=True, default=None)
    trigger = Text(default="schedule")  # schedule, resend
