"""Fraud stops: blocklist values in canonical form and the in-process matcher that screens them."""
