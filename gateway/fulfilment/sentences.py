"""The pre-checks' sentences, said again in the reader's language.

A finding's sentence is a `Message` when the checks make it, but the request stores it (and
the API returns it) as its English text, so what the work page reads back is plain English. The
sentences come from a closed set of templates, written in the modules below as
`Message("...{value}...", value=...)`; this module reads those templates out of the modules'
source once (gateway.i18n.stored does the rest). Values that are themselves one of those
templates (an advice inside a sentence) or a marked word (`N_("email address")`) are translated
too; anything else (an amount, a masked IBAN, a tier name) stays as it is.
"""

from __future__ import annotations

import functools
from pathlib import Path

from gateway.i18n import N_, Message
from gateway.i18n.stored import StoredSentences, marked_in

_HERE = Path(__file__).resolve().parent
# The modules whose findings and refusals the work page shows.
SOURCES = (
    *(_HERE / name for name in ("checks.py", "identity.py", "sentences.py")),
    _HERE.parent / "fulfilment_schemas.py",
)

# The targets as the sentences name them (their code with spaces), translated where shown.
TARGET_WORDS = {
    "zuora_collection": N_("zuora collection"),
    "stripe_customer_debit": N_("stripe customer debit"),
    "stripe_connect_payout": N_("stripe connect payout"),
    "zuora_subscription": N_("zuora subscription"),
    "stripe_subscription": N_("stripe subscription"),
}


def target_words(target: str) -> str:
    words = TARGET_WORDS.get(target)
    return Message(words) if words else target.replace("_", " ")


@functools.cache
def _stored() -> StoredSentences:
    return StoredSentences(marked_in(SOURCES))


def said_again(sentence: str) -> str:
    """`sentence` (English, as stored) in the current language, as far as it is known."""
    return _stored().said_again(sentence)
