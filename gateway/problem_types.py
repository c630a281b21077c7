"""What every error code means and what to do about it, written once.

The problem body's `title`, the page at `/problems/{code}` (its `type` URI) and the OpenAPI
document's examples all read this table. A new `ErrorCode` gets its entry here too
(tests/unit/test_problem_types.py fails until it has one).
"""

from __future__ import annotations

from typing import NamedTuple

from gateway.core.errors import ErrorCode


class ProblemType(NamedTuple):
    title: str  # the problem body's `title`: short, the same for every occurrence
    meaning: str  # what happened, for the support agent and the tool's developer
    action: str  # what to do next


_CHECK_AGAIN = "Correct the request as the `detail` says, then send it again with a new key."
_FIX_AND_RESEND = "Correct the value named in `detail` and send the request again."
_PROVIDER_CHECK = (
    "Apply refuses until this is resolved at the provider; the request keeps its status."
)

PROBLEM_TYPES: dict[ErrorCode, ProblemType] = {
    # request shape
    ErrorCode.VALIDATION_FAILED: ProblemType(
        "The request is not valid",
        "A field, query parameter or header does not match the documented schema; `errors` "
        "lists each one (`field` and `message`).",
        "Correct the fields listed in `errors` and send the request again; check them "
        "against /schema.",
    ),
    ErrorCode.MALFORMED_BODY: ProblemType(
        "The request body is not valid JSON",
        "The body could not be read as one JSON object (a quote, comma or brace is off, or a "
        "field appears twice).",
        "Fix the JSON (a JSON linter finds the spot) and send the request again.",
    ),
    ErrorCode.BODY_TOO_LARGE: ProblemType(
        "The request body is too large",
        "The body is over the gateway's size limit and was not read.",
        "Send a smaller body: no field of this API needs more than a few kilobytes.",
    ),
    ErrorCode.BODY_TOO_DEEP: ProblemType(
        "The request body nests too deep",
        "The JSON nests arrays and objects deeper than the gateway accepts.",
        "Send a flatter body, as documented in /schema.",
    ),
    ErrorCode.REQUEST_HEADERS_TOO_LARGE: ProblemType(
        "The request headers are too large",
        "A header, or all of them together, is over the gateway's limit.",
        "Send fewer or shorter headers (a stray cookie is the usual cause).",
    ),
    ErrorCode.NOT_FOUND: ProblemType(
        "Nothing is here",
        "No route of the API serves this path.",
        "Check the path against /schema (a missing /v1 prefix is the usual cause).",
    ),
    ErrorCode.METHOD_NOT_ALLOWED: ProblemType(
        "This method is not allowed here",
        "The path exists but does not accept this HTTP method; the Allow header lists those "
        "it accepts.",
        "Use one of the methods in the Allow header.",
    ),
    ErrorCode.CARD_NUMBER_NOT_ACCEPTED: ProblemType(
        "A card number is not accepted",
        "The request holds what looks like a full card number. The gateway never takes card "
        "numbers: they belong in the provider's own card form, never in a ticket or an API "
        "call.",
        "Remove the card number (the gateway kept nothing of it) and ask the customer to "
        "enter the card in the provider's payment page.",
    ),
    # authentication and limits
    ErrorCode.UNAUTHENTICATED: ProblemType(
        "Authentication needed",
        "The request has no API key, or the key is unknown, revoked or expired.",
        "Send `Authorization: Bearer <key>` with a valid key; ask an admin for a new key if "
        "yours was revoked or expired.",
    ),
    ErrorCode.FORBIDDEN: ProblemType(
        "Not allowed for this API key",
        "The API key is valid but lacks the scope this route needs; `required_scope` names it.",
        "Ask an admin for a key with the scope in `required_scope`; retrying with this key "
        "gets the same answer.",
    ),
    ErrorCode.RATE_LIMITED: ProblemType(
        "Too many requests",
        "This API key sent more requests in the last minute than it may.",
        "Wait the number of seconds in the Retry-After header, then send the request again.",
    ),
    # idempotency
    ErrorCode.IDEMPOTENCY_KEY_MISSING: ProblemType(
        "An Idempotency-Key is needed",
        "Every POST needs an Idempotency-Key header, so that a retry never acts twice.",
        "Send a new UUID as the Idempotency-Key for each intended action, and the same one "
        "when retrying that action.",
    ),
    ErrorCode.IDEMPOTENCY_KEY_INVALID: ProblemType(
        "The Idempotency-Key is not usable",
        "The Idempotency-Key header must be 1 to 255 printable characters without spaces.",
        "Send a UUID as the key.",
    ),
    ErrorCode.IDEMPOTENCY_KEY_REUSED: ProblemType(
        "The Idempotency-Key was used for another request",
        "This key was already used with a different body or route; the gateway will not "
        "guess which one was meant.",
        "Use a new key for a new action; to retry the first one, send its body unchanged.",
    ),
    ErrorCode.IDEMPOTENCY_REQUEST_IN_PROGRESS: ProblemType(
        "The first request with this key is still running",
        "A request with the same Idempotency-Key has not finished yet.",
        "Wait the Retry-After seconds and send the same request again, unchanged: it gets "
        "the first request's answer.",
    ),
    # bank details
    ErrorCode.IBAN_INVALID: ProblemType(
        "The IBAN is not valid",
        "An IBAN is two letters, two check digits, then letters and digits only; this one is not.",
        "Ask the customer to read the IBAN again from their bank statement or banking app.",
    ),
    ErrorCode.IBAN_CHECKSUM_FAILED: ProblemType(
        "The IBAN's check digits do not match",
        "The check digits do not match the rest of the IBAN: a character was probably mistyped.",
        "Ask the customer to read the IBAN again from their bank statement.",
    ),
    ErrorCode.IBAN_NATIONAL_CHECK_FAILED: ProblemType(
        "The IBAN's national check failed",
        "The bank's own check digits inside the IBAN do not match its account number: a "
        "character was probably mistyped.",
        "Ask the customer to read the IBAN again from their bank statement.",
    ),
    ErrorCode.IBAN_WRONG_LENGTH: ProblemType(
        "The IBAN has the wrong length",
        "IBANs of this country have a fixed length and this one is shorter or longer: a "
        "character is missing or extra.",
        "Ask the customer to read the IBAN again; `detail` says the expected length.",
    ),
    ErrorCode.IBAN_UNKNOWN_COUNTRY: ProblemType(
        "The IBAN's country is unknown",
        "The first two letters are not a country that issues IBANs.",
        "Check the first two letters with the customer.",
    ),
    ErrorCode.IBAN_NOT_SEPA: ProblemType(
        "The account is outside the SEPA zone",
        "SEPA direct debit and payouts cannot use an account in this country.",
        "Ask the customer for an account in a SEPA country.",
    ),
    ErrorCode.IBAN_OUTSIDE_IBAN_FIELD: ProblemType(
        "An IBAN is only accepted in its own field",
        "An IBAN was found outside `payload.iban` (in a note, a reference or a header), "
        "where it would be stored or logged in clear.",
        "Remove it from that field; send it only as `payload.iban`, which is kept encrypted.",
    ),
    ErrorCode.BIC_INVALID: ProblemType(
        "The BIC is not valid",
        "The BIC is not a valid SWIFT/BIC code.",
        "Leave the BIC out (the gateway derives it from the IBAN) or correct it.",
    ),
    ErrorCode.BIC_MISMATCH: ProblemType(
        "The BIC does not match the IBAN's bank",
        "The BIC given belongs to another bank than the IBAN.",
        "Leave the BIC out to use the one derived from the IBAN, or ask the customer.",
    ),
    ErrorCode.HOLDER_ADDRESS_REQUIRED: ProblemType(
        "The account holder's address is needed",
        "The account is in the SEPA zone but outside the EEA, so the debit must carry the "
        "holder's address.",
        "Ask the customer for the holder's address (line 1, city, postal code, country) "
        "and send it in the payload.",
    ),
    ErrorCode.HOLDER_EMAIL_REQUIRED: ProblemType(
        "The account holder's email is needed",
        "A SEPA mandate at Stripe needs the account holder's email.",
        "Ask the customer for it and send it as `payload.account_holder_email`.",
    ),
    # plans
    ErrorCode.UNKNOWN_TIER: ProblemType(
        "No such plan tier",
        "The tier named is not in the seat-tier table.",
        "Pick a tier from GET /v1/plans.",
    ),
    ErrorCode.TIER_UNCHANGED: ProblemType(
        "The subscription is already on this tier",
        "The requested tier is the one the subscription has: there is nothing to change.",
        "Tell the customer nothing needs to change, or pick another tier.",
    ),
    ErrorCode.DOWNGRADE_NOT_ALLOWED: ProblemType(
        "A downgrade is not allowed now",
        "The contract commits the customer to the current tier until its term ends.",
        "Tell the customer when the term ends (in `detail`), or ask a team lead about an "
        "exception.",
    ),
    # change requests
    ErrorCode.CHANGE_REQUEST_NOT_FOUND: ProblemType(
        "No such change request",
        "No change request with this id is visible to this API key.",
        "Check the id; a key sees only its own tool's requests.",
    ),
    ErrorCode.DUPLICATE_OPEN_REQUEST: ProblemType(
        "This ticket already has an open request of this kind",
        "One ticket may have one open request per kind; `existing_id` is the open one.",
        "Read or cancel the request in `existing_id` instead of filing another.",
    ),
    ErrorCode.INVALID_TRANSITION: ProblemType(
        "Not possible in the request's current status",
        "The request's status does not allow this step; `current_status` says where it is.",
        "Read the request again and act on its current status; a retry gets the same answer.",
    ),
    ErrorCode.INVALID_CURSOR: ProblemType(
        "The page cursor is not valid",
        "The cursor is not one this API gave out, or it was changed.",
        "Start the listing again without a cursor.",
    ),
    ErrorCode.CUSTOMER_UNIDENTIFIED: ProblemType(
        "The customer cannot be identified",
        "The request does not name the customer in a way the provider can find.",
        "Give the customer's provider reference (Zuora account number, Stripe customer id) "
        "as `detail` says.",
    ),
    # back office
    ErrorCode.NOTHING_TO_CLAIM: ProblemType(
        "Nothing to claim",
        "No unassigned item waits in this queue.",
        "Nothing to do: the queue is empty.",
    ),
    ErrorCode.NOT_YOUR_REQUEST: ProblemType(
        "Not in your queue",
        "The item is not assigned to you, or does not exist.",
        "Open it from your own queue, or ask your team lead to reassign it.",
    ),
    ErrorCode.MAKER_CANNOT_REVIEW: ProblemType(
        "You cannot review your own work",
        "The four-eyes rule: whoever made a change may not also approve it.",
        "Ask another team lead or admin to review it.",
    ),
    ErrorCode.ROLE_NOT_ALLOWED: ProblemType(
        "Your role may not do this",
        "This action needs a team lead or an admin.",
        "Ask a team lead or an admin to do it.",
    ),
    ErrorCode.STAFF_NOT_FOUND: ProblemType(
        "No such staff account",
        "No active staff account has this username.",
        "Check the username in the staff list.",
    ),
    ErrorCode.STAFF_USERNAME_TAKEN: ProblemType(
        "The username is taken",
        "A staff account with this username or email already exists.",
        "Pick another username, or reactivate the existing account.",
    ),
    ErrorCode.CONTACT_REASON_UNKNOWN: ProblemType(
        "Unknown contact reason",
        "A contact-reason code given is not in the list.",
        "Pick contact reasons from the list the form offers.",
    ),
    ErrorCode.TICKET_INVALID: ProblemType(
        "The ticket reference cannot be read",
        "A ticket is written `system:id` (for example `zendesk:1001`); this value could not "
        "be read as one.",
        "Send the help desk's name and the ticket number, for example `zendesk:1001`.",
    ),
    # fraud-stop
    ErrorCode.BLOCKED_BY_FRAUD_STOP: ProblemType(
        "Refused by fraud-stop",
        "A value in the request (IBAN, card, email, IP or customer) is on the blocklist; "
        "`blocklist_entry_ids` names the entries.",
        "Do not retry. Hand the ticket to the fraud team with the entry ids; do not tell the "
        "customer which value is blocked.",
    ),
    ErrorCode.BLOCKLIST_VALUE_INVALID: ProblemType(
        "The blocklist value is not valid",
        "The value does not fit its kind (an IBAN, a card fingerprint, an email, an IP ...).",
        _FIX_AND_RESEND,
    ),
    ErrorCode.BLOCKLIST_ENTRY_EXISTS: ProblemType(
        "This value is already blocked",
        "An active blocklist entry has this value; `existing_id` names it.",
        "Unblock that entry first to change its reason or expiry.",
    ),
    ErrorCode.BLOCKLIST_ENTRY_NOT_FOUND: ProblemType(
        "No such blocklist entry",
        "No blocklist entry has this id, or it was unblocked.",
        "Check the id in the blocklist.",
    ),
    ErrorCode.BLOCKLIST_ENTRY_ALREADY_REMOVED: ProblemType(
        "The entry was already unblocked",
        "This blocklist entry was unblocked earlier; nothing changed.",
        "Nothing to do.",
    ),
    ErrorCode.BLOCKLIST_IMPORT_NOT_FOUND: ProblemType(
        "No such blocklist import",
        "No blocklist import has this id.",
        "Check the id the import answered with.",
    ),
    ErrorCode.BLOCKLIST_IMPORT_INVALID: ProblemType(
        "The blocklist file cannot be imported",
        "The CSV's header or a line does not have the documented columns.",
        "Fix the file as `detail` says (columns kind,value,reason and optionally "
        "source_ticket,expires_at) and import it again.",
    ),
    ErrorCode.BLOCKLIST_EXPIRY_IN_PAST: ProblemType(
        "The expiry is in the past",
        "A block cannot expire before it starts.",
        "Give a future time, or none for a block that lasts.",
    ),
    ErrorCode.BLOCKLIST_EXPIRY_TOO_FAR: ProblemType(
        "The expiry is too far away",
        "A block's expiry must fall within 100 years; a block meant to last has none.",
        "Give an earlier time, or none for a block that lasts.",
    ),
    ErrorCode.SCREEN_NOTHING_GIVEN: ProblemType(
        "Nothing to screen",
        "A screening needs at least one value to look up.",
        "Give at least one of ip, card_fingerprint, card_bin, email, iban or customer.",
    ),
    # providers
    ErrorCode.NOT_ON_BILLING_DAY: ProblemType(
        "Not on the billing day",
        "A tier change takes effect on the customer's billing-cycle day; `effective_on` is "
        "the day that would be accepted.",
        "File the change again with `effective_on` set to that day.",
    ),
    ErrorCode.PROVIDER_NOT_CONFIGURED: ProblemType(
        "The provider is not configured",
        "The gateway has no connection to this billing provider.",
        "Use a configured provider, or ask an admin to configure this one.",
    ),
    ErrorCode.REFUND_EXCEEDS_PAYMENT: ProblemType(
        "The refund is more than is left",
        "The amount is more than what is left to refund on this payment.",
        "Refund at most the amount `detail` names.",
    ),
    ErrorCode.HOLDER_NOT_LEGAL_NAME: ProblemType(
        "The holder is not the partner's legal name",
        "A payout account must be held by the partner's legal entity, and this holder name "
        "differs.",
        "Ask the partner for an account in their legal name, or correct the holder name.",
    ),
    ErrorCode.WEBHOOK_SIGNATURE_INVALID: ProblemType(
        "The webhook signature is not valid",
        "The provider's signature is missing or was made with another secret.",
        "Check the webhook secret configured at the provider and in the gateway.",
    ),
    ErrorCode.WEBHOOK_TIMESTAMP_OUT_OF_RANGE: ProblemType(
        "The webhook is too old or too new",
        "The signed timestamp is outside the accepted window (a replayed or held-back call).",
        "Check the sender's clock; the provider retries by itself.",
    ),
    ErrorCode.WEBHOOK_NOT_CONFIGURED: ProblemType(
        "Webhooks from this provider are not configured",
        "The gateway has no secret to check this provider's webhooks with.",
        "Ask an admin to configure the provider's webhook secret.",
    ),
    ErrorCode.CUSTOMER_NOT_FOUND: ProblemType(
        "No such customer at the provider",
        "The provider has no account with this reference.",
        "Check the reference (Zuora account number or id, Stripe customer id) with the customer.",
    ),
    ErrorCode.PROVIDER_UNAVAILABLE: ProblemType(
        "The billing provider is unavailable",
        "The provider did not answer, or answered with an error of its own; nothing was "
        "changed there.",
        "Send the same request again (same Idempotency-Key) after the Retry-After seconds.",
    ),
    ErrorCode.PROVIDER_REJECTED: ProblemType(
        "The billing provider refused",
        "The provider refused the change; `provider_code` is its own code and "
        "`provider_request_id` the id its support finds the call by.",
        "Read `detail`; quote `provider_request_id` to the provider's support if unclear.",
    ),
    ErrorCode.PROVIDER_CONFLICT: ProblemType(
        "The billing provider reports a conflict",
        "The provider's record changed in a way that conflicts with this request.",
        "Read the customer's state again (GET /v1/customers/...) and decide anew.",
    ),
    ErrorCode.PROVIDER_NOT_FOUND: ProblemType(
        "Not found at the provider",
        "The provider has no object (invoice, payment, subscription) with this id.",
        "Check the id against the customer's list.",
    ),
    ErrorCode.PROVIDER_LACKS_CAPABILITY: ProblemType(
        "The provider cannot do this",
        "This provider's adapter does not offer this operation; GET /v1/capabilities lists "
        "what each one can do.",
        "Do it in the provider's own console, or use a provider that offers it.",
    ),
    ErrorCode.NO_RECEIPT: ProblemType(
        "No receipt for this payment",
        "The provider keeps no receipt for this payment.",
        "Send the customer the invoice PDF instead.",
    ),
    # apply (fulfilment)
    ErrorCode.PREVIEW_CHANGED: ProblemType(
        "The price preview changed",
        "The amounts changed since the preview was shown, or no preview id was given.",
        "Show the new amounts to the customer, then apply with the new preview's id.",
    ),
    ErrorCode.APPROVAL_REQUIRED: ProblemType(
        "A team lead must approve first",
        "This change waits for a team lead's approval; nothing was changed yet.",
        "Wait for the approval; the request moves on by itself.",
    ),
    ErrorCode.FULFILMENT_STEP_NOT_FOUND: ProblemType(
        "No such fulfilment step",
        "No fulfilment step has this id.",
        "Read the request again for its steps' ids.",
    ),
    # corrections
    ErrorCode.CORRECTION_NOT_FOUND: ProblemType(
        "No such correction",
        "No correction with this id is visible to this API key.",
        "Check the id; GET /v1/corrections lists the corrections you may see.",
    ),
    ErrorCode.INVOICE_NOT_OPEN: ProblemType(
        "The invoice is not open",
        "Only an open invoice can be voided.",
        "Refund the invoice's payment instead.",
    ),
    ErrorCode.PAYMENT_NOT_REFUNDABLE: ProblemType(
        "The payment cannot be refunded",
        "The payment failed, is still pending, or was refunded in full.",
        "Check the payment in the customer's list; `detail` says why.",
    ),
    ErrorCode.SUBSCRIPTION_NOT_ACTIVE: ProblemType(
        "The subscription is not active",
        "Only an active subscription can be cancelled.",
        "Nothing to cancel; read the customer's state to see what they have.",
    ),
    ErrorCode.NOTHING_TO_REFUND: ProblemType(
        "Nothing to refund",
        "The subscription has no paid payment with anything left to refund.",
        "Cancel with `then: nothing`, or refund a payment from the customer's list.",
    ),
    ErrorCode.NO_OPEN_INVOICE: ProblemType(
        "No open invoice",
        "The subscription has no open invoice to void.",
        "Cancel with `then: nothing`, or refund the paid invoice's payment.",
    ),
    ErrorCode.MAKER_CANNOT_APPROVE: ProblemType(
        "You cannot approve your own correction",
        "The four-eyes rule: whoever filed a correction may not approve it.",
        "Ask another team lead to approve it.",
    ),
    ErrorCode.PAYLOAD_CHANGED: ProblemType(
        "What would run changed",
        "The plan to run is not the one you were shown; the data changed since.",
        "Review the plan again and approve what is shown now.",
    ),
    ErrorCode.CANCEL_DATE_INVALID: ProblemType(
        "The cancellation date is not possible",
        "The provider cannot cancel on this date (for example, it does not say when the "
        "term ends).",
        "Cancel now or on an explicit date, as `detail` says.",
    ),
    ErrorCode.CURRENCY_MISMATCH: ProblemType(
        "The currency does not match",
        "The amount's currency is not the payment's.",
        "Give the amount in the payment's currency, in its minor units.",
    ),
    ErrorCode.REASON_REQUIRED: ProblemType(
        "A reason is needed",
        "This action is kept in the audit trail with a reason, and none was given.",
        "Say why, in a sentence the approver can read.",
    ),
    # pre-checks
    ErrorCode.COLLECTION_IN_FLIGHT: ProblemType(
        "A collection is in flight",
        "A direct debit on the current account is still being collected; changing the "
        "account now could lose or double it.",
        "Wait until the collection settles (usually a few business days), then apply.",
    ),
    ErrorCode.NEEDS_NEW_CONTRACT: ProblemType(
        "A new contract is needed",
        "The customer's contract terms changed since they signed; this change needs a new "
        "contract.",
        "Hand the ticket to sales for a new contract.",
    ),
    ErrorCode.CURRENT_TIER_MISMATCH: ProblemType(
        "The current tier is not what the request assumed",
        "The subscription's tier at the provider differs from the one the request was filed "
        "against.",
        "Check the customer's subscription and file the change again.",
    ),
    ErrorCode.IDENTITY_MISMATCH: ProblemType(
        "The customer's identity does not match",
        "The details in the request do not match the provider's account.",
        "Verify the customer's identity, then apply with `identity_mismatch_reason` saying how.",
    ),
    ErrorCode.ACKNOWLEDGEMENT_REQUIRED: ProblemType(
        "Warnings need acknowledging",
        "The checks found warnings the agent must confirm they read; `detail` lists them.",
        "Apply again with the warnings' codes in `acknowledge`.",
    ),
    ErrorCode.ACCOUNT_NOT_FOUND: ProblemType(
        "The account is not at the provider",
        "The provider has no account for the customer the request names.",
        "Check the customer reference; file a new request with the right one.",
    ),
    ErrorCode.CHECKS_BLOCKED: ProblemType(
        "The pre-checks block this change",
        "A check at the provider found something that must be resolved first; `detail` says what.",
        _PROVIDER_CHECK,
    ),
    # outgoing notifications
    ErrorCode.NOTIFICATION_ENDPOINT_NOT_FOUND: ProblemType(
        "No such notification endpoint",
        "No notification endpoint with this id is visible to this API key.",
        "Check the id; GET /v1/notification-endpoints lists yours.",
    ),
    ErrorCode.NOTIFICATION_DELIVERY_NOT_FOUND: ProblemType(
        "No such notification delivery",
        "No notification delivery with this id is visible to this API key.",
        "Check the id in the endpoint's deliveries.",
    ),
    ErrorCode.NOTIFICATION_HOST_NOT_ALLOWED: ProblemType(
        "The notification host is not allowed",
        "The gateway sends notifications only to the hosts an admin allowed.",
        "Ask an admin to add the host to BG_NOTIFICATION_ALLOWED_HOSTS.",
    ),
    ErrorCode.NOTIFICATION_URL_INVALID: ProblemType(
        "The notification URL is not usable",
        "The endpoint URL is not a full http(s) address the gateway can send to (it has "
        "spaces, a user name or password, a #fragment, or no host).",
        "Correct the URL as `detail` says and register it again.",
    ),
    ErrorCode.NOTIFICATION_EVENT_UNKNOWN: ProblemType(
        "Unknown event type",
        "The endpoint subscribes to an event type the gateway does not send (`unknown_events` "
        "names them), or to none at all.",
        "Choose exact types from the catalogue (the README's Notifications section lists "
        "them) or the patterns change_request.*, correction.*, provider.*, cheque.* or *.",
    ),
    ErrorCode.NOTIFICATION_DELIVERY_PENDING: ProblemType(
        "The delivery is still pending",
        "This delivery is still waiting to be sent (`next_attempt_at` says when).",
        "Wait for its next attempt; resend a delivery once it was delivered or has failed.",
    ),
    ErrorCode.NOTIFICATION_ENDPOINT_EXISTS: ProblemType(
        "An endpoint with this URL exists",
        "An endpoint with this URL is registered already; `existing_id` names it.",
        "Change that endpoint instead, or rotate its secret if the first answer (with the "
        "secret) was lost.",
    ),
    # offline payments: cheques and their deposit batches
    ErrorCode.CHEQUE_NOT_FOUND: ProblemType(
        "No such cheque",
        "No cheque entered in the gateway has this id.",
        "Check the id; GET /v1/cheques lists the cheques by day, batch or customer.",
    ),
    ErrorCode.CHEQUE_BATCH_NOT_FOUND: ProblemType(
        "No such cheque batch",
        "No cheque batch has this id.",
        "Check the id; GET /v1/cheque-batches lists the batches by day, currency and depositor.",
    ),
    ErrorCode.CHEQUE_ALREADY_RECORDED: ProblemType(
        "This cheque is already recorded",
        "A cheque with the same reference for the same customer and provider was entered "
        "before and was neither bounced nor failed; `cheque_id` names it.",
        "Do not enter it again: read the cheque in `cheque_id`. If the customer really sent "
        "two cheques with one reference, check the number printed on the second one.",
    ),
    ErrorCode.CHEQUE_EXCEEDS_INVOICE: ProblemType(
        "The cheque is more than the invoice's balance",
        "The cheque's amount is more than what is still due on the invoice; `detail` names "
        "the balance.",
        "Check the amount against the cheque; record it against the invoice for at most its "
        "balance, or record it without an invoice as a credit for the next one.",
    ),
    ErrorCode.CHEQUE_NOT_BOUNCEABLE: ProblemType(
        "This cheque cannot be marked bounced",
        "Only a recorded cheque can bounce; this one is still being recorded, failed, or "
        "bounced already.",
        "Read the cheque: a bounced one needs nothing more, a failed one was never booked at "
        "the provider, and one still recording can bounce once it is recorded.",
    ),
    ErrorCode.CHEQUE_BATCH_CLOSED: ProblemType(
        "The cheque batch is closed",
        "The batch was closed against the scanner's total; a closed batch does not change.",
        "Nothing to do for this batch; new cheques go to the depositor's next batch by themselves.",
    ),
    ErrorCode.CHEQUE_BATCH_BUSY: ProblemType(
        "A cheque of the batch is still being recorded",
        "The provider has not confirmed a cheque of this batch yet, so the batch's total is "
        "not final.",
        "Wait a minute (the gateway finishes it by itself), then close the batch again.",
    ),
    ErrorCode.CHEQUE_BATCH_TOTAL_MISMATCH: ProblemType(
        "The scanner's total differs from the batch's",
        "The batch stays open: the scanner's total is not the total of the batch's recorded "
        "cheques. `difference` is the batch's total minus the scanner's, and "
        "`cheques_since_scan` lists the cheques entered after the scan.",
        "Compare the cheques with the scan (the listed ones first: they were entered after "
        "it), correct the cause, then scan again and close with the new total and a new "
        "Idempotency-Key.",
    ),
    ErrorCode.CHEQUE_BATCH_SECOND_PERSON: ProblemType(
        "A second person must close the batch",
        "A batch is closed by an active operations member or team lead who is not its depositor.",
        "Ask another operations member or a team lead to scan the cheques and close the batch.",
    ),
    ErrorCode.DEPOSITOR_UNKNOWN: ProblemType(
        "The depositor is not an operations member",
        "The `depositor` named is not the username of an active staff member with the "
        "operations role.",
        "Name the operations member who takes the cheque to the bank, by their back-office "
        "username.",
    ),
    ErrorCode.CURRENCY_UNKNOWN: ProblemType(
        "The currency is not an ISO 4217 code",
        "The `currency` given is no currency the gateway knows (ISO 4217, three letters).",
        "Give the currency written on the cheque or invoice: EUR, USD, GBP, ...",
    ),
    ErrorCode.REPORT_PERIOD_INVALID: ProblemType(
        "The report's period is not valid",
        "A report starts on or before the day it ends and covers at most 366 days.",
        "Ask for a shorter period, with `date_from` on or before `date_to`.",
    ),
    # operations
    ErrorCode.SERVICE_UNAVAILABLE: ProblemType(
        "Service unavailable",
        "The gateway cannot serve requests right now (its database does not answer).",
        "Send the same request again after the Retry-After seconds.",
    ),
    ErrorCode.INTERNAL_ERROR: ProblemType(
        "Internal error",
        "Something went wrong on the gateway's side.",
        "Retry later; if it persists, report it with the `request_id`.",
    ),
}


def problem_type_of(code: ErrorCode) -> ProblemType:
    """The entry of `code`; a code added without one still gets a page (the test catches it)."""
    return PROBLEM_TYPES.get(
        code,
        ProblemType(code.value.replace("_", " ").capitalize(), "See `detail`.", _CHECK_AGAIN),
    )
