"""The back office's languages: English (the msgids), French and Arabic.

Every string a staff member reads goes through `gettext` (or is marked with `N_` and
translated where it is shown). The language and time zone of the request being served live in
context variables, set once per request by `LocaleMiddleware`; the API (`/v1`) never sets them,
so support tools always read English sentences and stable codes.

Sentences with values (refusals, notes) are `Message`s: a `str` holding the English text, so
every existing caller (the API, logs, the audit trail) keeps reading English, which also
remembers its template and values so that `translate()` can say it again in the reader's
language.
"""

from __future__ import annotations

from gateway.core.catalogues import (
    LANGUAGES,
    N_,
    RIGHT_TO_LEFT,
    Message,
    as_plain_json,
    current_language,
    current_time_zone,
    direction,
    gettext,
    ngettext,
    said_in,
    translate,
    use_language,
)
from gateway.i18n.negotiation import negotiate, valid_time_zone

__all__ = [
    "LANGUAGES",
    "N_",
    "RIGHT_TO_LEFT",
    "Message",
    "as_plain_json",
    "current_language",
    "current_time_zone",
    "direction",
    "gettext",
    "negotiate",
    "ngettext",
    "said_in",
    "translate",
    "use_language",
    "valid_time_zone",
]
