"""Corrections: refunds, cancellations with their follow-up and voids, at either provider."""
