"""`Idempotency-Key` for every POST: one execution, byte-identical replays, per-client keys."""
