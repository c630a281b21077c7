"""Stripe: the adapter over stripe-python, and a stateful Stripe emulator."""
