"""Which IBAN countries can use SEPA direct debit and payouts: the project's own list.

Source: the European Payments Council's "List of SEPA Scheme Countries" (EPC409-09), the list the
SEPA rulebooks point to, as of its 2025 edition: the EU and EEA states, the non-EEA states admitted
by the EPC (Andorra, Monaco, San Marino, Switzerland, the United Kingdom, Vatican City; Albania and
Montenegro from November 2024; Moldova and North Macedonia from March 2025; Serbia from May 2025),
and the territories the list names with their state. Territories that issue IBANs under their own
two letters are written out below.

schwifty's `in_sepa_zone` flag is not used: it also marks New Caledonia, French Polynesia, Wallis
and Futuna (the French Pacific territories, which use the CFP franc and are not in EPC409-09) and
the French Southern Territories as SEPA, and it does not yet know the 2024-2025 members.
"""

from __future__ import annotations

_EU = {
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
}  # fmt: skip
_EEA = {"IS", "LI", "NO"}
_NON_EEA = {"AD", "CH", "GB", "MC", "SM", "VA", "AL", "ME", "MD", "MK", "RS"}
# Territories EPC409-09 lists with their state that have IBAN country codes of their own:
# Åland (Finland); French Guiana, Guadeloupe, Martinique, Mayotte, Réunion, Saint Barthélemy,
# Saint Martin, Saint Pierre and Miquelon (France); Gibraltar, and Guernsey, Jersey and the Isle
# of Man, admitted in 2016 (United Kingdom). The Azores, Madeira, the Canaries, Ceuta and Melilla
# use PT and ES IBANs.
_TERRITORIES = {"AX", "GF", "GP", "MQ", "YT", "RE", "BL", "MF", "PM", "GI", "GG", "JE", "IM"}

SEPA_COUNTRIES = frozenset(_EU | _EEA | _NON_EEA | _TERRITORIES)


def in_sepa(country: str) -> bool:
    return country in SEPA_COUNTRIES
