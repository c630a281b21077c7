"""The emulator's HTTP face: Stripe's routes, its bearer-key check, its idempotency (a repeated
`Idempotency-Key` replays the first answer; the same key with other parameters is refused with
`idempotency_error`), its list envelope and pagination, and a log of every request's method,
path and parameter names, which the tests check against Stripe's OpenAPI description."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from adapters.stripe.emulator.billing import Billing
from adapters.stripe.emulator.connect import Connect
from adapters.stripe.emulator.customers import Customers, Params
from adapters.stripe.emulator.forms import decode
from adapters.stripe.emulator.invoicing import EMULATOR_ORIGIN, with_origin
from adapters.stripe.emulator.ledger import Ledger
from adapters.stripe.emulator.offline import OffStripe
from adapters.stripe.emulator.radar import Radar
from adapters.stripe.emulator.state import StripeAccount, StripeError, StripeObject, public


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    committed: bool = False
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    params: Params
    stripe_account: str | None
    idempotency_key: str | None
    stripe_version: str | None = None
    request_id: str | None = None  # the Request-Id it was answered with


Handler = Callable[..., Any]
_GROUP = re.compile(r"\([^)]*\)")
_ID_SEGMENT = re.compile(r"/[a-z]+_[A-Za-z0-9]{6,}(?=/|$)")
Route = tuple[str, re.Pattern[str], Handler, bool]  # method, path, handler, whether it writes


def _page(records: list[StripeObject], url: str, params: Params) -> dict[str, Any]:
    ordered = sorted(records, key=lambda record: (-record["created"], record["id"]))
    after = params.get("starting_after")
    if after:
        ids = [record["id"] for record in ordered]
        if after not in ids:
            raise StripeError(400, f"No such object: '{after}'", param="starting_after")
        ordered = ordered[ids.index(after) + 1 :]
    limit = max(1, min(int(params.get("limit") or 10), 100))
    return {
        "object": "list",
        "data": [public(record) for record in ordered[:limit]],
        "has_more": len(ordered) > limit,
        "url": url,
    }


class StripeFace:
    def __init__(self, account: StripeAccount) -> None:
        self.account = account
        self.customers = Customers(account)
        self.billing = Billing(account)
        self.connect = Connect(account)
        self.radar = Radar(account)
        self.requests: deque[LoggedRequest] = deque(maxlen=2000)
        self.stripe_account: str | None = None
        # Idempotency key -> (method, path, digest of the parameters, first answer); a digest,
        # not the parameters, so that no IBAN is kept with the answers (or in the state file).
        self._replays: dict[str, tuple[str, str, str, Answer]] = {}
        c, b, k, r = self.customers, self.billing, self.connect, self.radar
        self._routes: list[Route] = [
            # (method, path, handler, whether it writes)
            ("POST", re.compile(r"/v1/customers"), lambda p: c.create_customer(p), True),
            ("GET", re.compile(r"/v1/customers"), self._list_customers, False),
            ("GET", re.compile(r"/v1/customers/search"), self._search_customers, False),
            self._retrieve("customers", "cus", "customer"),
            ("POST", re.compile(r"/v1/customers/(cus_\w+)"), self._update_customer, True),
            (
                "GET",
                re.compile(r"/v1/customers/(cus_\w+)/payment_methods"),
                self._customer_methods,
                False,
            ),
            ("POST", re.compile(r"/v1/payment_methods"), c.create_payment_method, True),
            self._retrieve("payment_methods", "pm", "payment_method"),
            (
                "POST",
                re.compile(r"/v1/payment_methods/(pm_\w+)/attach"),
                lambda p, i: c.attach(i, str(p.get("customer") or "")),
                True,
            ),
            (
                "POST",
                re.compile(r"/v1/payment_methods/(pm_\w+)/detach"),
                lambda p, i: c.detach(i),
                True,
            ),
            ("POST", re.compile(r"/v1/setup_intents"), c.create_setup_intent, True),
            self._retrieve("setup_intents", "seti", "setup_intent"),
            self._retrieve("mandates", "mandate", "mandate"),
            ("GET", re.compile(r"/v1/subscriptions"), self._list_subscriptions, False),
            ("POST", re.compile(r"/v1/radar/value_lists"), r.create_list, True),
            (
                "GET",
                re.compile(r"/v1/radar/value_lists"),
                lambda p: _page(r.lists(p), "/v1/radar/value_lists", p),
                False,
            ),
            ("POST", re.compile(r"/v1/radar/value_list_items"), r.add_item, True),
            (
                "GET",
                re.compile(r"/v1/radar/value_list_items"),
                lambda p: _page(r.items(p), "/v1/radar/value_list_items", p),
                False,
            ),
            (
                "DELETE",
                re.compile(r"/v1/radar/value_list_items/(rsli_\w+)"),
                lambda p, i: r.delete_item(i),
                True,
            ),
            (
                "GET",
                re.compile(r"/v1/accounts/(acct_\w+)"),
                lambda p, i: k.retrieve_account(i),
                False,
            ),
            ("GET", re.compile(r"/v1/accounts"), self._list_accounts, False),
            (
                "GET",
                re.compile(r"/v1/payouts"),
                lambda p: _page(k.payouts(self.stripe_account, p), "/v1/payouts", p),
                False,
            ),
            (
                "GET",
                re.compile(r"/v1/payouts/(po_\w+)"),
                lambda p, i: k.payout(self.stripe_account, i),
                False,
            ),
            (
                "GET",
                re.compile(r"/v1/accounts/(acct_\w+)/external_accounts"),
                lambda p, i: _page(k.list_banks(i), f"/v1/accounts/{i}/external_accounts", p),
                False,
            ),
            (
                "POST",
                re.compile(r"/v1/accounts/(acct_\w+)/external_accounts"),
                lambda p, i: k.add_bank(i, p),
                True,
            ),
            (
                "POST",
                re.compile(r"/v1/accounts/(acct_\w+)/external_accounts/(ba_\w+)"),
                lambda p, i, b_id: k.update_bank(i, b_id, p),
                True,
            ),
            (
                "DELETE",
                re.compile(r"/v1/accounts/(acct_\w+)/external_accounts/(ba_\w+)"),
                lambda p, i, b_id: k.delete_bank(i, b_id),
                True,
            ),
            self._retrieve("subscriptions", "sub", "subscription"),
            ("DELETE", re.compile(r"/v1/subscriptions/(sub_\w+)"), lambda p, i: b.cancel(i), True),
            (
                "POST",
                re.compile(r"/v1/subscriptions/(sub_\w+)"),
                lambda p, i: b.schedule_cancel(i, p),
                True,
            ),
            (
                "POST",
                re.compile(r"/v1/subscription_items/(si_\w+)"),
                lambda p, i: b.update_item(i, p),
                True,
            ),
            ("POST", re.compile(r"/v1/invoices/create_preview"), b.preview, False),
            self._retrieve("invoices", "in", "invoice"),
            ("POST", re.compile(r"/v1/invoices/(in_\w+)/void"), lambda p, i: b.void(i), True),
            ("POST", re.compile(r"/v1/refunds"), b.refund, True),
            ("GET", re.compile(r"/v1/refunds"), self._list_refunds, False),
            self._retrieve("payment_intents", "pi", "payment_intent"),
            ("POST", re.compile(r"/v1/payment_intents"), b.create_payment_intent, True),
            self._retrieve("charges", "ch", "charge"),
        ]
        self.ledger = Ledger(account, _page)
        self.offline = OffStripe(account, _page)
        self._routes[:0] = [*self.ledger.routes(), *self.offline.routes()]
        self.origin = EMULATOR_ORIGIN  # where the last request reached the emulator

    def saved_replays(self) -> dict[str, Any]:
        """The idempotent answers as JSON, for the sandbox's state file."""
        return {
            key: [method, path, digest, answer.status, answer.body]
            for key, (method, path, digest, answer) in self._replays.items()
        }

    def restore_replays(self, saved: dict[str, Any]) -> None:
        for key, (method, path, digest, status, body) in saved.items():
            self._replays[key] = (method, path, digest, Answer(status, body))

    def _retrieve(self, collection: str, prefix: str, kind: str) -> Route:
        """`GET /v1/<collection>/<id>`: one object of `kind`, or Stripe's 404."""
        pattern = re.compile(rf"/v1/{collection}/({prefix}_\w+)")
        return ("GET", pattern, lambda _params, object_id: self.account.get(kind, object_id), False)

    def operations(self) -> frozenset[str]:
        """Every operation's name, as the fault switches take them."""
        return frozenset(
            f"{method} {_GROUP.sub('*', pattern.pattern)}"
            for method, pattern, _handler, _writes in self._routes
        )

    def operation_of(self, method: str, path: str) -> str:
        """The operation's name for fault switches: method and path, ids as `*`
        (`POST /v1/payment_methods/*/detach`)."""
        for route_method, pattern, _handler, _writes in self._routes:
            if route_method == method and pattern.fullmatch(path):
                return f"{method} {_GROUP.sub('*', pattern.pattern)}"
        return f"{method} {_ID_SEGMENT.sub('/*', path)}"

    def handle(
        self,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
        failure: StripeError | None = None,
    ) -> Answer:
        """One request; `failure` (a fault switch) is answered instead, changing nothing."""
        request_id = f"req_{secrets.token_hex(7)}"
        if headers.get("host"):
            self.origin = f"http://{headers['host']}"
        answer = self._handle(method, path, query, headers, body, failure, request_id)
        # A copy: the stored answer a repeated key replays keeps the stored addresses.
        shown = Answer(
            answer.status, with_origin(answer.body, self.origin), answer.committed, answer.headers
        )
        shown.headers["Request-Id"] = request_id
        return shown

    def _handle(
        self,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
        failure: StripeError | None,
        request_id: str,
    ) -> Answer:
        if headers.get("authorization") != f"Bearer {self.account.api_key}":
            return Answer(
                401,
                {
                    "error": {
                        "type": "invalid_request_error",
                        "message": "Invalid API Key provided.",
                    }
                },
            )
        try:
            params = decode(query if method in ("GET", "DELETE") else body.decode())
        except (ValueError, UnicodeDecodeError) as unreadable:
            return Answer(400, {"error": StripeError(400, str(unreadable)).body})
        self.requests.append(
            LoggedRequest(
                method,
                path,
                params,
                headers.get("stripe-account"),
                headers.get("idempotency-key"),
                headers.get("stripe-version"),
                request_id,
            )
        )
        if failure is not None:
            return Answer(failure.status, {"error": failure.body})
        key = headers.get("idempotency-key") if method == "POST" else None
        if key:
            earlier = self._replays.get(key)
            if earlier is not None:
                if earlier[:3] != (method, path, _digest(params)):
                    reused = StripeError(
                        400,
                        "Keys for idempotent requests can only be used with the same parameters "
                        "they were first used with.",
                        type="idempotency_error",
                    )
                    return Answer(400, {"error": reused.body})
                replay = earlier[3]
                return Answer(replay.status, replay.body, headers={"Idempotent-Replayed": "true"})
        self.stripe_account = headers.get("stripe-account")
        answer = self._route(method, path, params)
        if key and answer.status < 500:
            self._replays[key] = (method, path, _digest(params), answer)
        return answer

    def _route(self, method: str, path: str, params: Params) -> Answer:
        self.billing.renew_periods()
        # Read by the few handlers that act on a connected account (the Stripe-Account header).
        for route_method, pattern, handler, writes in self._routes:
            found = pattern.fullmatch(path)
            if found and route_method == method:
                try:
                    result = handler(params, *found.groups())
                except StripeError as error:
                    return Answer(error.status, {"error": error.body})
                body = (
                    result if "object" in result and result["object"] == "list" else public(result)
                )
                return Answer(200, self._expanded(body, params), committed=writes)
        unknown = StripeError(404, f"Unrecognized request URL ({method}: {path}).")
        return Answer(404, {"error": unknown.body})

    def _expanded(self, body: dict[str, Any], params: Params) -> dict[str, Any]:
        """Stripe's `expand[]` for top-level fields: an id becomes the object it names."""
        fields = params.get("expand") or []
        if not isinstance(fields, list) or body.get("object") == "list":
            return body
        expanded = dict(body)
        for name in fields:
            value = body.get(str(name))
            if isinstance(value, str) and value in self.account.objects:
                expanded[str(name)] = public(self.account.objects[value])
        return expanded

    # -- lists ---------------------------------------------------------------------------------

    def _list_customers(self, params: Params) -> dict[str, Any]:
        found = self.account.all("customer")
        if params.get("email"):
            found = [c for c in found if (c["email"] or "").lower() == params["email"].lower()]
        return _page(found, "/v1/customers", params)

    def _search_customers(self, params: Params) -> dict[str, Any]:
        found = self.customers.search_customers(str(params.get("query") or ""))
        page = _page(found, "/v1/customers/search", params)
        return {**page, "object": "search_result", "next_page": None}

    def _update_customer(self, params: Params, customer_id: str) -> StripeObject:
        return self.customers.update_customer(customer_id, params)

    def _list_accounts(self, params: Params) -> dict[str, Any]:
        return _page(self.account.all("account"), "/v1/accounts", params)

    def _list_refunds(self, params: Params) -> dict[str, Any]:
        found = [
            refund
            for refund in self.account.all("refund")
            if params.get("payment_intent") in (None, refund["payment_intent"])
        ]
        return _page(found, "/v1/refunds", params)

    def _list_subscriptions(self, params: Params) -> dict[str, Any]:
        found = [
            subscription
            for subscription in self.account.all("subscription")
            if params.get("customer") in (None, subscription["customer"])
            and (params.get("status") or "active") in ("all", subscription["status"])
        ]
        return _page(found, "/v1/subscriptions", params)

    def _customer_methods(self, params: Params, customer_id: str) -> dict[str, Any]:
        found = self.customers.customer_methods(customer_id, params.get("type"))
        return _page(found, f"/v1/customers/{customer_id}/payment_methods", params)


def _digest(params: Params) -> str:
    return hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()


def dumps(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()
