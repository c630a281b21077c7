"""Applying change requests at the providers: pre-checks, plans, durable steps."""
