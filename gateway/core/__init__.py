"""The gateway's core: what every layer may import, and which imports no feature.

Errors and their codes, sensitive-data handling, crypto, logging, the database connection, the
job queue, the language context and the list cursor. `adapters/` and `audit/` import only this
part of the gateway; import-linter's contracts in `make lint` keep the layers (pyproject.toml).
"""
