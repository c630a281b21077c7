"""Opening a request from a back-office list opens its work page; a cheque or a cheque batch,
its page under /staff/cheques.

piccolo-admin 1.14 has no row actions and renders every cell as escaped text: the only link a
row has is its `link_column` (the ticket), which routes the single-page app to its own detail
screen (`#/<table>/<id>/`). For the request lists that screen is replaced by the work page,
which shows all it showed and more: this script, added to the app's page by the guard, sends
the browser there. No ticket is retyped, and the list stays in the history for Back.
"""

from __future__ import annotations

# The screens (admin.screens) whose rows are change requests, keyed by their id.
REQUEST_TABLES = ("my_queue", "all_requests", "review_queue", "triage")
WORK_PAGE = "/staff/requests/"
# The operations screens' rows, keyed by their id, and the page each opens.
PAGE_OF_TABLE = {
    **{table: WORK_PAGE for table in REQUEST_TABLES},
    "mailed_cheques": "/staff/cheques/",
    "deposit_batches": "/staff/cheques/batches/",
}


def _opener() -> str:
    pages = ",".join(f"{table}:'{page}'" for table, page in PAGE_OF_TABLE.items())
    # Vue's router changes the hash with pushState, which fires no event: look every 200 ms,
    # as the guard's sign-in watcher does.
    return (
        "<script>(function(){"
        f"var pages={{{pages}}};"
        f"var open=new RegExp('^#/({'|'.join(PAGE_OF_TABLE)})/([0-9a-f-]{{36}})/?$');"
        "function check(){var m=open.exec(location.hash);"
        "if(m){location.replace(pages[m[1]]+m[2]);}}"
        "check();setInterval(check,200);})();</script>"
    )


OPEN_ON_WORK_PAGE = _opener()
