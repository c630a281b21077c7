"""One error vocabulary for the whole gateway; the HTTP edge maps it to problem details."""

from __future__ import annotations

import enum
from typing import Any

import httpx


class ErrorCode(enum.StrEnum):
    # request shape
    VALIDATION_FAILED = "validation_failed"
    MALFORMED_BODY = "malformed_body"
    BODY_TOO_LARGE = "body_too_large"
    BODY_TOO_DEEP = "body_too_deep"
    REQUEST_HEADERS_TOO_LARGE = "request_headers_too_large"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CARD_NUMBER_NOT_ACCEPTED = "card_number_not_accepted"
    # authentication and limits
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    RATE_LIMITED = "rate_limited"
    # idempotency
    IDEMPOTENCY_KEY_MISSING = "idempotency_key_missing"
    IDEMPOTENCY_KEY_INVALID = "idempotency_key_invalid"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_REQUEST_IN_PROGRESS = "idempotency_request_in_progress"
    # bank details
    IBAN_INVALID = "iban_invalid"
    IBAN_CHECKSUM_FAILED = "iban_checksum_failed"
    IBAN_NATIONAL_CHECK_FAILED = "iban_national_check_failed"
    IBAN_WRONG_LENGTH = "iban_wrong_length"
    IBAN_UNKNOWN_COUNTRY = "iban_unknown_country"
    IBAN_NOT_SEPA = "iban_not_sepa"
    IBAN_OUTSIDE_IBAN_FIELD = "iban_outside_iban_field"
    BIC_INVALID = "bic_invalid"
    BIC_MISMATCH = "bic_mismatch"
    HOLDER_ADDRESS_REQUIRED = "holder_address_required"
    HOLDER_EMAIL_REQUIRED = "holder_email_required"
    # plans
    UNKNOWN_TIER = "unknown_tier"
    TIER_UNCHANGED = "tier_unchanged"
    DOWNGRADE_NOT_ALLOWED = "downgrade_not_allowed"
    # change requests
    CHANGE_REQUEST_NOT_FOUND = "change_request_not_found"
    DUPLICATE_OPEN_REQUEST = "duplicate_open_request"
    INVALID_TRANSITION = "invalid_transition"
    INVALID_CURSOR = "invalid_cursor"
    CUSTOMER_UNIDENTIFIED = "customer_unidentified"
    # back office
    NOTHING_TO_CLAIM = "nothing_to_claim"
    NOT_YOUR_REQUEST = "not_your_request"
    MAKER_CANNOT_REVIEW = "maker_cannot_review"
    ROLE_NOT_ALLOWED = "role_not_allowed"
    STAFF_NOT_FOUND = "staff_not_found"
    STAFF_USERNAME_TAKEN = "staff_username_taken"
    CONTACT_REASON_UNKNOWN = "contact_reason_unknown"
    TICKET_INVALID = "ticket_invalid"
    # fraud-stop
    BLOCKED_BY_FRAUD_STOP = "blocked_by_fraud_stop"
    BLOCKLIST_VALUE_INVALID = "blocklist_value_invalid"
    BLOCKLIST_ENTRY_EXISTS = "blocklist_entry_exists"
    BLOCKLIST_ENTRY_NOT_FOUND = "blocklist_entry_not_found"
    BLOCKLIST_ENTRY_ALREADY_REMOVED = "blocklist_entry_already_removed"
    BLOCKLIST_IMPORT_NOT_FOUND = "blocklist_import_not_found"
    BLOCKLIST_IMPORT_INVALID = "blocklist_import_invalid"
    BLOCKLIST_EXPIRY_IN_PAST = "blocklist_expiry_in_past"
    BLOCKLIST_EXPIRY_TOO_FAR = "blocklist_expiry_too_far"
    SCREEN_NOTHING_GIVEN = "screen_nothing_given"
    # providers
    NOT_ON_BILLING_DAY = "not_on_billing_day"
    PROVIDER_NOT_CONFIGURED = "provider_not_configured"
    REFUND_EXCEEDS_PAYMENT = "refund_exceeds_payment"
    HOLDER_NOT_LEGAL_NAME = "holder_not_legal_name"
    WEBHOOK_SIGNATURE_INVALID = "webhook_signature_invalid"
    WEBHOOK_TIMESTAMP_OUT_OF_RANGE = "webhook_timestamp_out_of_range"
    WEBHOOK_NOT_CONFIGURED = "webhook_not_configured"
    CUSTOMER_NOT_FOUND = "customer_not_found"
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    PROVIDER_REJECTED = "provider_rejected"
    PROVIDER_CONFLICT = "provider_conflict"
    PROVIDER_NOT_FOUND = "provider_not_found"
    PROVIDER_LACKS_CAPABILITY = "provider_lacks_capability"
    NO_RECEIPT = "no_receipt"
    # apply (fulfilment)
    PREVIEW_CHANGED = "preview_changed"
    APPROVAL_REQUIRED = "approval_required"
    FULFILMENT_STEP_NOT_FOUND = "fulfilment_step_not_found"
    # corrections (gateway/corrections/)
    CORRECTION_NOT_FOUND = "correction_not_found"
    INVOICE_NOT_OPEN = "invoice_not_open"
    PAYMENT_NOT_REFUNDABLE = "payment_not_refundable"
    SUBSCRIPTION_NOT_ACTIVE = "subscription_not_active"
    NOTHING_TO_REFUND = "nothing_to_refund"
    NO_OPEN_INVOICE = "no_open_invoice"
    MAKER_CANNOT_APPROVE = "maker_cannot_approve"
    PAYLOAD_CHANGED = "payload_changed"
    CANCEL_DATE_INVALID = "cancel_date_invalid"
    CURRENCY_MISMATCH = "currency_mismatch"
    REASON_REQUIRED = "reason_required"
    # pre-checks (gateway/fulfilment/checks.py)
    COLLECTION_IN_FLIGHT = "collection_in_flight"
    NEEDS_NEW_CONTRACT = "needs_new_contract"
    CURRENT_TIER_MISMATCH = "current_tier_mismatch"
    IDENTITY_MISMATCH = "identity_mismatch"
    ACKNOWLEDGEMENT_REQUIRED = "acknowledgement_required"
    ACCOUNT_NOT_FOUND = "account_not_found"
    CHECKS_BLOCKED = "checks_blocked"
    # outgoing notifications (gateway/notifications/)
    NOTIFICATION_ENDPOINT_NOT_FOUND = "notification_endpoint_not_found"
    NOTIFICATION_DELIVERY_NOT_FOUND = "notification_delivery_not_found"
    NOTIFICATION_HOST_NOT_ALLOWED = "notification_host_not_allowed"
    NOTIFICATION_URL_INVALID = "notification_url_invalid"
    NOTIFICATION_DELIVERY_PENDING = "notification_delivery_pending"
    NOTIFICATION_ENDPOINT_EXISTS = "notification_endpoint_exists"
    NOTIFICATION_EVENT_UNKNOWN = "notification_event_unknown"
    # offline payments: cheques and their deposit batches (gateway/cheques/)
    CHEQUE_NOT_FOUND = "cheque_not_found"
    CHEQUE_BATCH_NOT_FOUND = "cheque_batch_not_found"
    CHEQUE_ALREADY_RECORDED = "cheque_already_recorded"
    CHEQUE_EXCEEDS_INVOICE = "cheque_exceeds_invoice"
    CHEQUE_NOT_BOUNCEABLE = "cheque_not_bounceable"
    CHEQUE_BATCH_CLOSED = "cheque_batch_closed"
    CHEQUE_BATCH_BUSY = "cheque_batch_busy"
    CHEQUE_BATCH_TOTAL_MISMATCH = "cheque_batch_total_mismatch"
    CHEQUE_BATCH_SECOND_PERSON = "cheque_batch_second_person"
    DEPOSITOR_UNKNOWN = "depositor_unknown"
    CURRENCY_UNKNOWN = "currency_unknown"
    REPORT_PERIOD_INVALID = "report_period_invalid"
    # operations
    SERVICE_UNAVAILABLE = "service_unavailable"
    INTERNAL_ERROR = "internal_error"


HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.VALIDATION_FAILED: 400,
    ErrorCode.MALFORMED_BODY: 400,
    ErrorCode.BODY_TOO_LARGE: 413,
    ErrorCode.BODY_TOO_DEEP: 400,
    ErrorCode.REQUEST_HEADERS_TOO_LARGE: 431,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.METHOD_NOT_ALLOWED: 405,
    ErrorCode.CARD_NUMBER_NOT_ACCEPTED: 422,
    ErrorCode.UNAUTHENTICATED: 401,
    ErrorCode.FORBIDDEN: 403,
    ErrorCode.RATE_LIMITED: 429,
    ErrorCode.IDEMPOTENCY_KEY_MISSING: 400,
    ErrorCode.IDEMPOTENCY_KEY_INVALID: 400,
    ErrorCode.IDEMPOTENCY_KEY_REUSED: 422,
    ErrorCode.IDEMPOTENCY_REQUEST_IN_PROGRESS: 409,
    ErrorCode.IBAN_INVALID: 422,
    ErrorCode.IBAN_CHECKSUM_FAILED: 422,
    ErrorCode.IBAN_NATIONAL_CHECK_FAILED: 422,
    ErrorCode.IBAN_WRONG_LENGTH: 422,
    ErrorCode.IBAN_UNKNOWN_COUNTRY: 422,
    ErrorCode.IBAN_NOT_SEPA: 422,
    ErrorCode.IBAN_OUTSIDE_IBAN_FIELD: 422,
    ErrorCode.BIC_INVALID: 422,
    ErrorCode.BIC_MISMATCH: 422,
    ErrorCode.HOLDER_ADDRESS_REQUIRED: 422,
    ErrorCode.HOLDER_EMAIL_REQUIRED: 422,
    ErrorCode.UNKNOWN_TIER: 422,
    ErrorCode.TIER_UNCHANGED: 422,
    ErrorCode.DOWNGRADE_NOT_ALLOWED: 422,
    ErrorCode.CHANGE_REQUEST_NOT_FOUND: 404,
    ErrorCode.DUPLICATE_OPEN_REQUEST: 409,
    ErrorCode.INVALID_TRANSITION: 409,
    ErrorCode.INVALID_CURSOR: 422,
    ErrorCode.CUSTOMER_UNIDENTIFIED: 422,
    ErrorCode.NOTHING_TO_CLAIM: 409,
    ErrorCode.NOT_YOUR_REQUEST: 404,
    ErrorCode.MAKER_CANNOT_REVIEW: 403,
    ErrorCode.ROLE_NOT_ALLOWED: 403,
    ErrorCode.STAFF_NOT_FOUND: 404,
    ErrorCode.STAFF_USERNAME_TAKEN: 409,
    ErrorCode.CONTACT_REASON_UNKNOWN: 422,
    ErrorCode.TICKET_INVALID: 422,
    ErrorCode.BLOCKED_BY_FRAUD_STOP: 422,
    ErrorCode.BLOCKLIST_VALUE_INVALID: 422,
    ErrorCode.BLOCKLIST_ENTRY_EXISTS: 409,
    ErrorCode.BLOCKLIST_ENTRY_NOT_FOUND: 404,
    ErrorCode.BLOCKLIST_ENTRY_ALREADY_REMOVED: 409,
    ErrorCode.BLOCKLIST_IMPORT_NOT_FOUND: 404,
    ErrorCode.BLOCKLIST_IMPORT_INVALID: 422,
    ErrorCode.BLOCKLIST_EXPIRY_IN_PAST: 422,
    ErrorCode.BLOCKLIST_EXPIRY_TOO_FAR: 422,
    ErrorCode.SCREEN_NOTHING_GIVEN: 422,
    ErrorCode.NOT_ON_BILLING_DAY: 422,
    ErrorCode.PROVIDER_NOT_CONFIGURED: 404,
    ErrorCode.REFUND_EXCEEDS_PAYMENT: 422,
    ErrorCode.HOLDER_NOT_LEGAL_NAME: 422,
    # The sender failed to prove it is the provider: unauthenticated, as a missing API key is.
    ErrorCode.WEBHOOK_SIGNATURE_INVALID: 401,
    ErrorCode.WEBHOOK_TIMESTAMP_OUT_OF_RANGE: 401,
    ErrorCode.WEBHOOK_NOT_CONFIGURED: 503,
    ErrorCode.CUSTOMER_NOT_FOUND: 404,
    ErrorCode.PROVIDER_UNAVAILABLE: 503,
    ErrorCode.PROVIDER_REJECTED: 422,
    ErrorCode.PROVIDER_CONFLICT: 409,
    ErrorCode.PROVIDER_NOT_FOUND: 404,
    ErrorCode.PROVIDER_LACKS_CAPABILITY: 422,
    ErrorCode.NO_RECEIPT: 404,
    ErrorCode.PREVIEW_CHANGED: 409,
    ErrorCode.APPROVAL_REQUIRED: 409,
    ErrorCode.FULFILMENT_STEP_NOT_FOUND: 404,
    ErrorCode.CORRECTION_NOT_FOUND: 404,
    ErrorCode.INVOICE_NOT_OPEN: 409,
    ErrorCode.PAYMENT_NOT_REFUNDABLE: 409,
    ErrorCode.SUBSCRIPTION_NOT_ACTIVE: 409,
    ErrorCode.NOTHING_TO_REFUND: 409,
    ErrorCode.NO_OPEN_INVOICE: 409,
    ErrorCode.MAKER_CANNOT_APPROVE: 403,
    ErrorCode.PAYLOAD_CHANGED: 409,
    ErrorCode.CANCEL_DATE_INVALID: 422,
    ErrorCode.CURRENCY_MISMATCH: 422,
    ErrorCode.REASON_REQUIRED: 422,
    ErrorCode.COLLECTION_IN_FLIGHT: 409,
    ErrorCode.NEEDS_NEW_CONTRACT: 409,
    ErrorCode.CURRENT_TIER_MISMATCH: 409,
    ErrorCode.IDENTITY_MISMATCH: 409,
    ErrorCode.ACKNOWLEDGEMENT_REQUIRED: 409,
    ErrorCode.ACCOUNT_NOT_FOUND: 422,
    ErrorCode.CHECKS_BLOCKED: 409,
    ErrorCode.NOTIFICATION_ENDPOINT_NOT_FOUND: 404,
    ErrorCode.NOTIFICATION_DELIVERY_NOT_FOUND: 404,
    ErrorCode.NOTIFICATION_HOST_NOT_ALLOWED: 422,
    ErrorCode.NOTIFICATION_URL_INVALID: 422,
    ErrorCode.NOTIFICATION_DELIVERY_PENDING: 409,
    ErrorCode.NOTIFICATION_ENDPOINT_EXISTS: 409,
    ErrorCode.NOTIFICATION_EVENT_UNKNOWN: 422,
    ErrorCode.CHEQUE_NOT_FOUND: 404,
    ErrorCode.CHEQUE_BATCH_NOT_FOUND: 404,
    ErrorCode.CHEQUE_ALREADY_RECORDED: 409,
    ErrorCode.CHEQUE_EXCEEDS_INVOICE: 422,
    ErrorCode.CHEQUE_NOT_BOUNCEABLE: 409,
    ErrorCode.CHEQUE_BATCH_CLOSED: 409,
    ErrorCode.CHEQUE_BATCH_BUSY: 409,
    ErrorCode.CHEQUE_BATCH_TOTAL_MISMATCH: 409,
    ErrorCode.CHEQUE_BATCH_SECOND_PERSON: 403,
    ErrorCode.DEPOSITOR_UNKNOWN: 422,
    ErrorCode.CURRENCY_UNKNOWN: 422,
    ErrorCode.REPORT_PERIOD_INVALID: 422,
    ErrorCode.SERVICE_UNAVAILABLE: 503,
    ErrorCode.INTERNAL_ERROR: 500,
}


class BillingError(Exception):
    """A failure with a stable code and a sentence a support agent can act on.

    `detail` must never hold personal data or raw provider messages; `extra` adds
    machine-readable members to the problem body (e.g. the id of a conflicting request).
    """

    def __init__(
        self,
        code: ErrorCode,
        detail: str,
        *,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.extra = extra or {}
        self.headers = headers or {}

    @property
    def status(self) -> int:
        return HTTP_STATUS[self.code]


def is_unavailable(error: BaseException) -> bool:
    """Worth another try with the same key: the provider was busy or down, or its answer was
    lost on the way (a timeout, a reset connection)."""
    if isinstance(error, BillingError):
        return error.code is ErrorCode.PROVIDER_UNAVAILABLE
    return isinstance(error, httpx.TransportError | OSError | TimeoutError)
