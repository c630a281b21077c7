"""Kept for existing imports: Stripe's signature check lives with its adapter
(adapters/stripe/signature.py)."""

from adapters.stripe.signature import stripe_event, verify_stripe_signature

__all__ = ["stripe_event", "verify_stripe_signature"]
