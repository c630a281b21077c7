"""Failed sign-in attempts per client address: the lockout protects one account, this protects
the server from one address trying many accounts (and from paying a password hash for each).
A right password or code uses up nothing; once an address is over, it waits out the minute.
The failures are counted in the shared store, so the allowance holds across every process."""

from __future__ import annotations

from limits.aio.storage import Storage

from gateway.edge.failure_limit import FailureLimit


class SignInThrottle(FailureLimit):
    def __init__(self, per_minute: int, storage: Storage | None = None) -> None:
        super().__init__(per_minute, "staff-sign-in", storage=storage)
