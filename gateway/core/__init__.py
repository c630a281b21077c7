"""The gateway's core: what every layer may import, and which imports no feature.

Errors and their codes, sensitive-data handling, crypto, logging, the database connection, the
job queue and the language context. `adapters/` and `audit/` import only this part of the
gateway; the layers are kept by import-linter's contracts in `make lint` (pyproject.toml).
"""
