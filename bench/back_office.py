"""Back-office screens with 1,000,000 change requests: each role's list, filter and count pages.

Seeds a fresh database (DATABASE_URL's server, or an embedded one) with a million requests in a
realistic mix (most approved long ago, a few percent open), 20 specialists, 3 leads and an
admin; starts the real server (`billing-gateway serve`); then requests every page exactly as
piccolo-admin's browser app does (same paths and query strings, signed in with a session
cookie), one at a time, and reports p50 and p95 per page beside /health/live on the same server.

    make bench            # or: .venv/bin/python bench/back_office.py --rows 1000000 --samples 60

Exits non-zero when any page's p95 is above 100 ms. Figures go to bench/results/back_office.json,
and the previous run is shown beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from intake import ROOT, drop_database, percentile, prepare_database, start_server

RESULTS = ROOT / "bench" / "results" / "back_office.json"
TARGET_P95_MS = 100.0
SPECIALISTS = 20

# Each role's screens, as the browser app asks for them (see the access log of a real session).
LIST = "__readable=true&__page_size=15&__page=1"
MINE = f"/specialist/api/tables/my_queue/?{LIST}&__order=created_at"
ALL = f"/lead/api/tables/all_requests/?{LIST}&__order=-created_at"
PAGES: dict[str, list[tuple[str, str]]] = {
    "specialist": [
        ("my queue: list", MINE),
        ("my queue: count", "/specialist/api/tables/my_queue/count/"),
        ("my queue: filter status", f"{MINE}&status=in_progress"),
        ("my queue: filter count", "/specialist/api/tables/my_queue/count/?status=in_progress"),
        ("my queue: find ticket", f"{MINE}&ticket_id=999981"),
    ],
    "team_lead": [
        ("all: list", ALL),
        ("all: count", "/lead/api/tables/all_requests/count/"),
        ("all: filter status+assignee", f"{ALL}&status=approved&assignee=7"),
        ("all: filter count", "/lead/api/tables/all_requests/count/?status=approved&assignee=7"),
        ("all: filter status", f"{ALL}&status=cancelled"),
        ("all: filter status count", "/lead/api/tables/all_requests/count/?status=approved"),
        ("all: filter maker count", "/lead/api/tables/all_requests/count/?processed_by=3"),
        ("all: find ticket", f"{ALL}&ticket_id=424242"),
        ("all: find ticket count", "/lead/api/tables/all_requests/count/?ticket_id=424242"),
        ("triage: list", f"/lead/api/tables/triage/?{LIST}&__order=created_at"),
        ("triage: count", "/lead/api/tables/triage/count/"),
        ("triage: filter stale", f"/lead/api/tables/triage/?{LIST}&__order=created_at&stale=true"),
        ("triage: filter stale count", "/lead/api/tables/triage/count/?stale=true"),
        ("review queue: list", f"/lead/api/tables/review_queue/?{LIST}&__order=processed_at"),
        ("review queue: count", "/lead/api/tables/review_queue/count/"),
        ("staff names: ids (filter box)", "/lead/api/tables/staff_names/ids/"),
    ],
    "admin": [
        ("staff: list", f"/admin/api/tables/staff_accounts/?{LIST}"),
        ("staff: count", "/admin/api/tables/staff_accounts/count/"),
        ("api keys: list", f"/admin/api/tables/api_key_list/?{LIST}"),
    ],
}

SEED = f"""
INSERT INTO change_requests (
    id, kind, status, ticket_system, ticket_id, company_name, zuora_account_id, requester,
    contact_reasons, contact_reasons_fit_kind, details, api_key, created_at, updated_at,
    progress_at, assignee_id, assigned_at, processed_by_id, processed_at, review_required,
    reviewed_by_id, reviewed_at, resolution_note)
SELECT gen_random_uuid(), kind, status, 'zendesk', n::text, 'Shop ' || (n % 50000),
       'A' || lpad((n % 50000)::text, 8, '0'), '{{"name": "Bench"}}'::jsonb,
       ARRAY['Billing > Payment method > Bank details change'], n % 97 <> 0,
       CASE WHEN kind = 'iban_change' THEN jsonb_build_object(
              'kind', kind, 'iban_masked', 'DE****' || lpad((n % 10000)::text, 4, '0'),
              'iban_country', 'DE', 'bank_name', 'Commerzbank', 'bic', 'COBADEFFXXX',
              'account_holder', 'Shop ' || (n % 50000), 'targets', '["zuora_collection"]'::jsonb)
            ELSE jsonb_build_object('kind', kind, 'subscription_ref', 'A-S' || n,
              'target_tier', jsonb_build_object('name', 'team'), 'contract_signed_on',
              '2020-01-01', 'needs_new_contract', false) END,
       $1, created, created, created,
       CASE WHEN status = 'new' THEN NULL ELSE 1 + n % {SPECIALISTS} END,
       CASE WHEN status = 'new' THEN NULL ELSE created END,
       CASE WHEN status IN ('processed', 'approved') THEN 1 + n % {SPECIALISTS} END,
       CASE WHEN status IN ('processed', 'approved') THEN created END,
       status IN ('processed', 'approved'),
       CASE WHEN status = 'approved' THEN {SPECIALISTS} + 1 END,
       CASE WHEN status = 'approved' THEN created END,
       CASE WHEN status IN ('processed', 'approved') THEN 'Done' END
  FROM (
    SELECT n,
           CASE WHEN n % 3 = 0 THEN 'plan_change' ELSE 'iban_change' END AS kind,
           now() - make_interval(secs => ($2 - n) * 60) AS created,
           CASE WHEN n > $2 - 30000 THEN
                  (ARRAY['new', 'assigned', 'in_progress', 'waiting_customer', 'rejected',
                         'processed'])[1 + n % 6]
                WHEN n % 40 = 0 THEN 'cancelled' ELSE 'approved' END AS status
      FROM generate_series(1, $2) AS n
  ) AS generated
"""


async def seed(url: str, rows: int) -> dict[str, str]:
    """Staff, sessions and `rows` requests; returns a session token per role."""
    import asyncpg

    from gateway.staff.tables import StaffUser

    connection = await asyncpg.connect(url)
    try:
        password = StaffUser.hash_password("bench-password-not-used")
        staff = [(f"specialist{i:02d}", "specialist") for i in range(1, SPECIALISTS + 1)]
        staff += [("lead01", "team_lead"), ("lead02", "team_lead"), ("lead03", "team_lead")]
        staff += [("admin01", "admin")]
        for username, role in staff:
            await connection.execute(
                "INSERT INTO staff_users (username, password, first_name, last_name, email,"
                " active, admin, superuser, role, failed_logins, totp_secret, totp_last_step,"
                " mfa_enrolled_at, created_at) VALUES ($1, $2, '', '', $4,"
                " true, true, false, $3, 0, 'enrolled', 0, now(), now())",
                username,
                password,
                role,
                f"{username}@example.com",
            )
        tokens = {
            "specialist": "bench-specialist",
            "team_lead": "bench-lead",
            "admin": "bench-admin",
        }
        later = datetime.now() + timedelta(hours=6)
        for role, username in (
            ("specialist", "specialist01"),
            ("team_lead", "lead01"),
            ("admin", "admin01"),
        ):
            await connection.execute(
                "INSERT INTO staff_sessions (token, user_id, expiry_date, max_expiry_date,"
                " created_at, last_seen_at) SELECT $1, id, $3, $3, now(), now()"
                " FROM staff_users WHERE username = $2",
                tokens[role],
                username,
                later,
            )
        api_key = await connection.fetchval("SELECT id FROM api_keys LIMIT 1")
        started = time.perf_counter()
        await connection.execute(SEED, api_key, rows)
        await connection.execute("VACUUM ANALYZE change_requests")
        print(f"seeded {rows:,} change requests in {time.perf_counter() - started:.0f} s")
    finally:
        await connection.close()
    return tokens


async def measure(base: str, tokens: dict[str, str], samples: int) -> dict[str, dict[str, float]]:
    figures: dict[str, dict[str, float]] = {}
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def timed(path: str, token: str | None) -> list[float]:
            cookies = {"id": token} if token else None
            for _ in range(3):  # warm the caches and the plans
                await client.get(path, cookies=cookies)
            timings = []
            for _ in range(samples):
                started = time.perf_counter()
                response = await client.get(path, cookies=cookies)
                timings.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{path}: {response.status_code} {response.text[:200]}")
            return timings

        trivial = await timed("/health/live", None)
        figures["trivial route"] = {
            "p50_ms": statistics.median(trivial),
            "p95_ms": percentile(trivial, 0.95),
        }
        for role, pages in PAGES.items():
            for label, path in pages:
                timings = await timed(path, tokens[role])
                figures[f"{role} · {label}"] = {
                    "p50_ms": statistics.median(timings),
                    "p95_ms": percentile(timings, 0.95),
                }
    return figures


def report(figures: dict[str, dict[str, float]], previous: dict[str, object] | None) -> bool:
    before = (previous or {}).get("pages", {})
    assert isinstance(before, dict)
    print(f"\n{'page':48} {'p50 ms':>8} {'p95 ms':>8} {'previous p95':>13}")
    met = True
    for name, row in figures.items():
        earlier = before.get(name, {}).get("p95_ms") if isinstance(before.get(name), dict) else None
        over = name != "trivial route" and row["p95_ms"] > TARGET_P95_MS
        met = met and not over
        print(
            f"{name:48} {row['p50_ms']:8.2f} {row['p95_ms']:8.2f} "
            f"{(f'{earlier:.2f}' if earlier else '-'):>13}{'  OVER' if over else ''}"
        )
    print(f"\ntarget: every page p95 <= {TARGET_P95_MS:.0f} ms: {'met' if met else 'MISSED'}")
    return met


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=60, help="requests per page")
    parser.add_argument("--keep", action="store_true", help="keep the seeded database")
    arguments = parser.parse_args()
    server_url, url, _key = asyncio.run(prepare_database())
    try:
        tokens = asyncio.run(seed(url, arguments.rows))
        server, base = start_server(url, workers=1)
        try:
            figures = asyncio.run(measure(base, tokens, arguments.samples))
        finally:
            server.terminate()
            server.wait(timeout=30)
    finally:
        if arguments.keep:
            print(f"kept the seeded database: {url}")
        else:
            asyncio.run(drop_database(server_url, url))
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else None
    met = report(figures, previous)
    RESULTS.write_text(
        json.dumps(
            {"rows": arguments.rows, "samples": arguments.samples, "pages": figures}, indent=2
        )
        + "\n"
    )
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
