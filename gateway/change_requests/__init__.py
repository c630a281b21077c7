"""IBAN-change and plan-change requests filed by support tools."""
