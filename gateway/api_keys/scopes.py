import enum


class Scope(enum.StrEnum):
    CHANGE_REQUESTS_READ = "change-requests:read"
    CHANGE_REQUESTS_WRITE = "change-requests:write"
    # Carry a request out at the providers (POST /v1/change-requests/{id}/apply).
    CHANGE_REQUESTS_APPLY = "change-requests:apply"
    # Read and cancel the requests of every client, not only the key's own client's.
    CHANGE_REQUESTS_ALL_CLIENTS = "change-requests:all-clients"
    FRAUD_SCREEN = "fraud:screen"
    FRAUD_READ = "fraud:read"
    FRAUD_WRITE = "fraud:write"
    BILLING_READ = "billing:read"
    BILLING_WRITE = "billing:write"
    # Register and manage outgoing notification endpoints, read and resend their deliveries.
    NOTIFICATIONS_MANAGE = "notifications:manage"
    # Record cheques, close their batches against the scanner's total, mark bounces, read reports.
    PAYMENTS_OFFLINE = "payments:offline"


ALL_SCOPES = tuple(Scope)
