import enum

from gateway.i18n import N_
from gateway.i18n.labels import LABELS


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


LABELS.update(
    {
        Scope.CHANGE_REQUESTS_READ: N_("Read change requests"),
        Scope.CHANGE_REQUESTS_WRITE: N_("File and update change requests"),
        Scope.CHANGE_REQUESTS_APPLY: N_("Apply change requests at the providers"),
        Scope.CHANGE_REQUESTS_ALL_CLIENTS: N_("Every client's change requests"),
        Scope.FRAUD_SCREEN: N_("Screen against fraud-stop"),
        Scope.FRAUD_READ: N_("Read the blocklist"),
        Scope.FRAUD_WRITE: N_("Block and unblock"),
        Scope.BILLING_READ: N_("Read billing"),
        Scope.BILLING_WRITE: N_("Refund and correct billing"),
        Scope.NOTIFICATIONS_MANAGE: N_("Manage notification endpoints"),
        Scope.PAYMENTS_OFFLINE: N_("Record mailed cheques"),
    }
)


ALL_SCOPES = tuple(Scope)
