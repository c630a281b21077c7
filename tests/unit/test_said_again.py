"""The pre-checks' sentences are stored in English; the work page recognises each by its
template and says it again in the reader's language, and codes inside refusals are named by
their labels while the API's English stays as it was."""

from __future__ import annotations

from gateway.change_requests.states import Status, Transition, next_status
from gateway.core.errors import BillingError
from gateway.fulfilment.checks import _not_configured, _unreadable
from gateway.fulfilment.identity import holder_finding
from gateway.fulfilment.sentences import said_again
from gateway.i18n import translate, use_language


def test_a_stored_finding_is_said_again_in_french_and_arabic() -> None:
    finding = _not_configured("zuora_collection", "zuora")
    stored = str(finding.sentence)  # what the database and the API hold
    assert stored == (
        "Zuora is not configured on this gateway, so zuora collection cannot be checked or "
        "changed here."
    )
    with use_language("fr"):
        assert said_again(stored) == (
            "Zuora n'est pas configuré sur cette passerelle : encaissement Zuora ne peut donc "
            "pas être vérifié ni modifié ici."
        )
    with use_language("ar"):
        assert "Zuora" in said_again(stored) and "is not configured" not in said_again(stored)
    with use_language("en"):
        assert said_again(stored) == stored


def test_values_and_unknown_sentences_are_left_as_they_are() -> None:
    finding = holder_finding("Boutique Lumière", "Atelier Lumière SARL", "Boutique Lumière")
    assert finding is not None
    with use_language("fr"):
        said = said_again(str(finding.sentence))
        assert "(Atelier Lumière SARL)" in said and "raison sociale" in said
        assert said_again("A sentence no template made.") == "A sentence no template made."


def test_a_refused_transition_names_statuses_by_their_labels() -> None:
    try:
        next_status(Status.IN_PROGRESS, Transition.APPROVE)
    except BillingError as refusal:
        detail = refusal.detail
    assert detail == (
        "A request that is in progress cannot approve; that is possible only from: applied, "
        "processed."
    )
    with use_language("fr"):
        assert translate(detail).startswith("Une demande à l'état « en cours »")
    with use_language("en"):
        assert translate(detail) == detail


def test_an_unreadable_provider_sentence_round_trips() -> None:
    from gateway.core.errors import ErrorCode

    finding = _unreadable(
        "stripe_customer_debit", "stripe", BillingError(ErrorCode.PROVIDER_UNAVAILABLE, "down")
    )
    with use_language("ar"):
        said = said_again(str(finding.sentence))
    assert said.startswith("تعذّرت قراءة Stripe")


def test_every_module_that_makes_the_work_pages_sentences_is_read() -> None:
    from gateway.fulfilment.sentences import SOURCES

    assert all(source.is_file() for source in SOURCES)
    stored = "Zuora did not answer. Nothing was applied; try again in a minute."
    with use_language("fr"):
        assert "Nothing was applied" not in said_again(stored)
