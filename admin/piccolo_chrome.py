"""piccolo-admin's own interface (its "chrome") in the staff member's language.

piccolo-admin ships French but no Arabic, and a few of its messages are written into its
bundle without going through its translations. The project supplies both languages from its
own catalogues: `CHROME` is every string piccolo-admin translates (a unit test fails when an
upgrade adds one), `BUNDLE_TEXT` every English literal its bundle shows directly, which the
guard serves patched to look the text up (see `patched_bundle`).
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import piccolo_admin
from piccolo_admin.translations.models import Translation

from admin.screen_labels import TABLE_TITLES
from gateway.core.log import get_logger
from gateway.i18n import LANGUAGES, N_, direction, gettext, use_language

DIST = Path(piccolo_admin.__file__).parent / "dist"
log = get_logger("back_office")

# piccolo_admin.translations.data.ENGLISH's keys, marked for the catalogues (the French
# catalogue's entries for these are piccolo-admin's own French).
CHROME = (
    N_("About"),
    N_("Add Row"),
    N_("Add"),
    N_("Apply"),
    N_("Ascending"),
    N_("Back to home page"),
    N_("Back"),
    N_("Change Password"),
    N_("Clear filters"),
    N_("Close"),
    N_("Comma"),
    N_("Create"),
    N_("Current password"),
    N_("Dark Mode"),
    N_("Days"),
    N_("Delete"),
    N_("Delimiter"),
    N_("Descending"),
    N_("Download"),
    N_("Download failed"),
    N_("Download successful"),
    N_("Edit"),
    N_("Export CSV"),
    N_("Filter"),
    N_(
        "For timestamps which are timezone aware, they will be displayed in this timezone by "
        "default."
    ),
    N_("Form submitted"),
    N_("Forms"),
    N_("Hide Filters"),
    N_("Hide referencing tables"),
    N_("Home"),
    N_("Hours"),
    N_("Light Mode"),
    N_("Links"),
    N_("Loading"),
    N_("Log Out"),
    N_("Login"),
    N_("MFA Code"),
    N_("MFA Setup"),
    N_("Minutes"),
    N_("New password confirmation"),
    N_("New password"),
    N_("New value"),
    N_("No results found"),
    N_("Note: Large data sets may take a while."),
    N_("Note: They are converted to UTC when stored in the database."),
    N_("of"),
    N_("page"),
    N_("Password"),
    N_("result(s)"),
    N_("rows"),
    N_("Save"),
    N_("Seconds"),
    N_("Select a column to update"),
    N_("Select a Column"),
    N_("Select a table in the sidebar to get started."),
    N_("selected result(s) on"),
    N_("Semicolon"),
    N_("Set Timezone"),
    N_("Show Filters"),
    N_("Show referencing tables"),
    N_("Showing"),
    N_("Sort by"),
    N_("Sort"),
    N_("Submit"),
    N_("Tables"),
    N_("Timezone"),
    N_("Thanks for using Piccolo Admin."),
    N_("Update"),
    N_("Use again"),
    N_("Username"),
    N_("Version"),
    N_("Weeks"),
    N_("Welcome to"),
    N_("with a matching"),
)

# Literals the bundle shows without its translations; served patched to call `bgT(...)`.
BUNDLE_TEXT = (
    N_("All"),
    N_("Successfully applied filter"),
    N_("Successfully cleared filters"),
    N_("The form has errors."),
    N_("Problem fetching rows."),
    N_("The server can't be reached - please try later."),
    N_("Downloaded file"),
    N_("Loading ..."),
    N_("Error"),
    N_("Type here to filter"),
    N_("Click for more info"),
    N_("Show tables"),
    N_("Hide tables"),
    N_("Show forms"),
    N_("Hide forms"),
    N_("Show links"),
    N_("Hide links"),
    N_("Show password"),
    N_("Hide password"),
    N_("View"),
    N_("Translations"),
    N_("Invalid column name or value"),
    N_("Method not supported - running in read only mode."),
    N_("of"),
    N_("per page"),
)

# Where those literals sit in the bundle: a toast, a placeholder, a tooltip, a text node.
_LITERAL_CONTEXTS = (
    'contents:"{}"',
    'showSuccess("{}")',
    'successMessage="{}"',
    'placeholder:"{}"',
    'title:"{}"',
    'U0("{} ",-1)',
    'U0("{}",-1)',
)

# (what the bundle says, what it is served saying). Each must be found: test_piccolo_chrome
# fails, naming the one that is not, when an upgrade rewrites the bundle.
BUNDLE_PATCHES = (
    # Table names: piccolo-admin titles a screen from its table name ("my_queue" -> "my queue").
    ('function Cb(e){return e.split("_").join(" ")}', "function Cb(e){return bgTable(e)}"),
    ('this.tableName.split("_").join(" ")', "bgTable(this.tableName)"),
    # An empty value is shown empty, not as NULL.
    ('?"NULL":""', '?"":""'),
    ('t0("code",null,"NULL",-1)', 't0("code",null,"",-1)'),
    ('?"All":', '?bgT("All"):'),
    ("contents:`Problem fetching ${o} rows.`", 'contents:bgT("Problem fetching rows.")'),
    # The pager.
    ('"of "+M0(e.pageCount)', 'bgT("of")+" "+M0(e.pageCount)'),
    ("label:`${c} per page`", 'label:c+" "+bgT("per page")'),
    # A count past admin/estimated_counts.py's limit is an estimate: "of about N (estimate)".
    (
        'return e.commit("updateRowCount",r.count),r',
        'return window.bgEstimate=!!r.estimate,e.commit("updateRowCount",r.count),r',
    ),
    ('M0(e.$t("of"))+" "+M0(e.rowCount)', 'M0(e.$t("of"))+" "+M0(bgCount(e.rowCount))'),
    # CSV export pages through the count, which may be an estimate: read to the first short
    # page instead, so that an export is complete whatever the count said.
    (
        "for(let j=1;j<S+1;j++){R.__page=j;const H=await T0.get(`api/tables/${q}/`,{params:R});"
        "y.push(...H.data.rows)}",
        "for(let j=1;;j++){R.__page=j;const H=await T0.get(`api/tables/${q}/`,{params:R});"
        "y.push(...H.data.rows);if(H.data.rows.length<R.__page_size)break}",
    ),
)

# How an estimated count reads ({count} as the reader's language writes numbers).
ESTIMATE = N_("about {count} (estimate)")


def _literal_patches(bundle: str) -> list[tuple[str, str]]:
    patches = []
    for text in BUNDLE_TEXT:
        for context in _LITERAL_CONTEXTS:
            old = context.format(text)
            if old in bundle:
                literal = old[old.index('"') : old.rindex('"') + 1]
                patches.append((old, old.replace(literal, f"bgT({json.dumps(text)})")))
    return patches


def bundle_path() -> Path:
    [bundle] = sorted((DIST / "assets").glob("index-*.js"))
    return bundle


def patch(bundle: str) -> str:
    for old, new in (*BUNDLE_PATCHES, *_literal_patches(bundle)):
        if old not in bundle:
            raise ValueError(f"piccolo-admin's bundle changed: {old!r} is not in it")
        bundle = bundle.replace(old, new)
    return bundle


@functools.cache
def patched_bundle() -> bytes:
    """piccolo-admin's script with its table titles and untranslated literals looked up in
    the page's dictionaries (`bgTable`, `bgT`, set by `index_head`). Should an upgrade move
    what a patch looks for (tests/unit/test_piccolo_chrome.py fails first), the script is
    served as it came, with an error in the log: English titles, never a blank back office."""
    bundle = bundle_path().read_text(encoding="utf-8")
    try:
        return patch(bundle).encode()
    except ValueError as error:
        log.error("piccolo-admin bundle served unpatched", error=str(error))
        return bundle.encode()


def piccolo_translations() -> list[Translation]:
    """English, French and Arabic for piccolo-admin's own translation list, from our catalogues."""
    translations = []
    for code, name in LANGUAGES.items():
        with use_language(code):
            translations.append(
                Translation(
                    language_name=name,
                    language_code=code,
                    translations={key: gettext(key) for key in CHROME},
                )
            )
    return translations


_RIGHT_TO_LEFT_STYLE = (
    # piccolo-admin lays out with floats and left margins; mirror what matters in Arabic.
    "<style>html[dir=rtl] body{text-align:right}"
    "html[dir=rtl] #sidebar_wrapper,html[dir=rtl] .sidebar{direction:rtl}"
    "html[dir=rtl] table td,html[dir=rtl] table th{text-align:right}"
    "html[dir=rtl] input,html[dir=rtl] select,html[dir=rtl] textarea{direction:rtl}"
    "html[dir=rtl] [style*='float: right']{float:left!important}"
    "html[dir=rtl] .fa-turn-up.rotated90{transform:scaleX(-1) rotate(90deg)}"
    "html[dir=rtl] .fa-angle-left,html[dir=rtl] .fa-angle-right{transform:scaleX(-1)}"
    # The language is the staff member's preference (Preferences), not piccolo-admin's menu.
    "a:has(> svg.fa-language){display:none!important}"
    "</style>"
)


def _script_json(value: object) -> str:
    """JSON that cannot end or open a tag inside the inline <script> it is written into."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@functools.cache
def index_head(language: str, time_zone: str) -> str:
    """What the guard adds to piccolo-admin's page for this reader: the page's language and
    direction, piccolo-admin's language and time zone (it keeps them in localStorage), and the
    dictionaries the patched bundle looks its titles and messages up in."""
    with use_language(language):
        tables = {table: gettext(title) for table, title in TABLE_TITLES.items()}
        texts = {text: gettext(text) for text in BUNDLE_TEXT}
        page_direction = direction(language)
        about = gettext(ESTIMATE)
    settings = _script_json(
        {
            "lang": language,
            "dir": page_direction,
            "zone": time_zone,
            "tables": tables,
            "texts": texts,
            "about": about,
        }
    )
    return (
        "<script>(function(){var s=" + settings + ";"
        "var h=document.documentElement;h.lang=s.lang;h.dir=s.dir;"
        "try{localStorage.setItem('piccoloAdminDefaultLanguage',s.lang);"
        "localStorage.setItem('defaultTimezone',s.zone);}catch(e){}"
        "window.bgTable=function(n){return s.tables[n]||String(n).split('_').join(' ');};"
        "window.bgT=function(t){return s.texts[t]||t;};"
        "window.bgCount=function(n){return window.bgEstimate?"
        "s.about.replace('{count}',Number(n).toLocaleString(s.lang)):n;};})();</script>"
        + _RIGHT_TO_LEFT_STYLE
    )


_HTML_TAG = re.compile(r"<html[^>]*>")


def localised_index(index: str, language: str, time_zone: str) -> bytes:
    page = _HTML_TAG.sub(f'<html lang="{language}" dir="{direction(language)}">', index, count=1)
    return page.replace("<head>", "<head>" + index_head(language, time_zone), 1).encode()
