"""API keys for support tools: random, shown once, stored as a digest, scoped, expiring."""
