"""Which language and time zone a request is served in."""

from __future__ import annotations

import functools
import zoneinfo

from babel import Locale

from gateway.core.catalogues import LANGUAGES


def negotiate(accept_language: str, preferred: str | None = None) -> str:
    """The staff member's own choice, else the browser's first language we have, else English."""
    if preferred in LANGUAGES:
        return preferred
    wanted = []
    for part in accept_language.split(",")[:20]:  # a hostile header is cut short, not parsed
        tag, _, quality = part.strip().partition(";q=")
        try:
            weight = float(quality) if quality else 1.0
        except ValueError:
            continue
        if tag and weight > 0:
            wanted.append((weight, tag.strip().replace("_", "-")))
    wanted.sort(key=lambda item: -item[0])
    found = Locale.negotiate([tag for _, tag in wanted], list(LANGUAGES), sep="-")
    return found.language if found is not None and found.language in LANGUAGES else "en"


@functools.cache
def time_zones() -> tuple[str, ...]:
    """Every IANA zone this machine knows (tzdata), sorted, for the preferences select."""
    return tuple(sorted(zoneinfo.available_timezones()))


@functools.cache
def _known_zones() -> frozenset[str]:
    return frozenset(time_zones())


def valid_time_zone(name: str | None) -> str | None:
    return name if name and name in _known_zones() else None
