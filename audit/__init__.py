"""The audit trail's interface: every state change appends one entry, in the caller's transaction.

The store behind it is a plain append-only table for now; the encrypted, hash-chained store
replaces `audit.store` without changing this interface.
"""

from audit.entry import Actor, AuditEntry
from audit.store import append

__all__ = ["Actor", "AuditEntry", "append"]
