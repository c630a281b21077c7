from piccolo.columns import UUID, Array, Integer, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class ApiKey(Table, tablename="api_keys"):
    """A support tool's credential. Only a digest of the secret is kept."""

    id = UUID(primary_key=True)
    name = Varchar(length=100)
    # The support tool's organisation the key belongs to; its keys share the client's requests,
    # so a rotated key keeps them.
    client = Varchar(length=100)
    prefix = Varchar(length=16, unique=True, index=True)
    secret_digest = Varchar(length=64)
    scopes = Array(base_column=Varchar(length=40))
    rate_limit_per_minute = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None)
