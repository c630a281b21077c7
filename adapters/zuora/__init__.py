"""Zuora: SOAP (zeep) and REST transports behind the provider-neutral ports, and an emulator."""
