"""The Stripe events the gateway acts on, and what a specialist should read from each: they
concern a change request's work (a mandate, a payment method, a payout)."""

CONCERNING = {
    "setup_intent.succeeded": "mandate confirmed",
    "setup_intent.setup_failed": "mandate setup failed",
    "payment_method.attached": "payment method attached",
    "mandate.updated": "mandate updated",
    "payout.failed": "payout failed",
}
