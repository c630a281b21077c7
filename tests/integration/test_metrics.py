"""/metrics: every server process in one scrape, and the business as a user would recognise it."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from audit.sinks import HttpSink
from gateway import metrics_endpoint
from gateway.fulfilment.service import FulfilmentService
from gateway.metrics_endpoint import forget_business_metrics
from tests.database import auth, superuser
from tests.emulators import free_port
from tests.integration import test_apply as apply_kit
from tests.integration import test_checkpoint_sinks as sinks_kit
from tests.integration import test_notification_delivery as delivery_kit
from tests.payloads import iban_change

emulators = apply_kit.emulators  # fresh, seeded Zuora and Stripe emulators
fulfilment = apply_kit.fulfilment
receiver = sinks_kit.receiver  # an off-host checkpoint store on loopback
sink_setting = sinks_kit.sink_setting


def _value(text: str, name: str, **labels: str) -> float | None:
    """The sample `name{labels}` of a Prometheus text page (labels in any order)."""
    for line in text.splitlines():
        match = re.fullmatch(r"([a-z_:]+)(?:\{(.*)\})? (\S+)", line)
        if match is None or match[1] != name:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match[2] or ""))
        if all(found.get(key) == value for key, value in labels.items()):
            return float(match[3])
    return None


async def _scrape(http: httpx.AsyncClient) -> str:
    """/metrics read afresh: the business part is otherwise kept a few seconds."""
    forget_business_metrics()
    return (await http.get("/metrics")).text


def test_one_scrape_adds_up_both_server_processes(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    # No PROMETHEUS_MULTIPROC_DIR given: `serve --workers 2` chooses one in its data directory.
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BG_ZUORA_EMULATOR_PORT": str(free_port()),
        "BG_STRIPE_EMULATOR_PORT": str(free_port()),
        "ZUORA_EMULATOR_CALLOUT_URL": "",
    }
    command = [sys.executable, "-m", "gateway", "serve", "--port", str(port), "--workers", "2"]
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(command, env=environment, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        text = _both_ready_and_scraped(base)
        live = _value(text, "billing_gateway_requests_total", path="/health/live") or 0.0
        for _ in range(60):  # a connection each: both processes accept
            with httpx.Client(base_url=base) as client:
                assert client.get("/health/live").status_code == 200
        text = httpx.get(f"{base}/metrics", timeout=10).text
        assert _value(text, "billing_gateway_requests_total", path="/health/live") == live + 60
        listening = re.findall(
            r"^billing_gateway_fraud_mirror_listening\{pid=\"(\d+)\"\} 1\.0$", text, re.M
        )
        assert len(set(listening)) == 2  # each process's own mirror, both live
        assert list((Path(os.environ["BG_DATA_DIR"]) / "prometheus").glob("counter_*.db"))
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _both_ready_and_scraped(base: str) -> str:
    """The scrape once both worker processes have started (each shows its live mirror)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            text = httpx.get(f"{base}/metrics", timeout=2).text
            if text.count("billing_gateway_fraud_mirror_listening{") == 2:
                return text
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError("the two server processes did not both start")


async def test_a_filed_request_shows_in_triage_and_its_audit_entry_waits_for_the_seal(
    http: httpx.AsyncClient, api_key: str
) -> None:
    before = await _scrape(http)
    assert _value(before, "billing_gateway_queue_depth", queue="triage") == 0
    unsealed = _value(before, "billing_gateway_audit_unsealed_entries") or 0
    filed = await http.post(
        "/v1/change-requests", json=iban_change(), headers=auth(api_key, uuid.uuid4().hex)
    )
    assert filed.status_code == 201, filed.text
    text = await _scrape(http)
    assert _value(text, "billing_gateway_queue_depth", queue="triage") == 1
    assert (_value(text, "billing_gateway_queue_oldest_age_seconds", queue="triage") or 0) >= 0
    assert (_value(text, "billing_gateway_audit_unsealed_entries") or 0) > unsealed
    assert (_value(text, "billing_gateway_audit_seal_lag_seconds") or 0) > 0
    assert _value(text, "billing_gateway_business_probe_failed", probe="queues") == 0


async def test_a_failed_job_is_counted_by_its_task(http: httpx.AsyncClient) -> None:
    async with superuser() as connection:
        await connection.execute(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, status, args)"
            " VALUES ('default', 'webhooks.process', 'failed', '{}')"
        )
    text = await _scrape(http)
    assert _value(text, "billing_gateway_job_failures", task="webhooks.process") == 1


async def test_a_waiting_provider_event_shows_as_inbox_lag(http: httpx.AsyncClient) -> None:
    async with superuser() as connection:
        await connection.execute(
            "INSERT INTO webhook_events (provider, event_id, event_type, event_created, payload,"
            " received_at) VALUES ('stripe', 'evt_1', 'customer.updated', now(), '{}',"
            " now() - interval '90 seconds')"
        )
    text = await _scrape(http)
    assert (_value(text, "billing_gateway_webhook_inbox_lag_seconds", provider="stripe") or 0) >= 90
    assert _value(text, "billing_gateway_webhook_inbox_depth", provider="stripe") == 1


async def test_provider_steps_are_counted_by_outcome_with_their_latency(
    http: httpx.AsyncClient,
    api_key: str,
    emulators: tuple[str, str],
    fulfilment: FulfilmentService,
) -> None:
    zuora, _stripe = emulators
    step = {"work": "fulfilment", "provider": "zuora", "step": "set_default_method"}
    before = await _scrape(http)
    request_id = await apply_kit.file(http, api_key, apply_kit.atelier("zuora_collection"))
    fault = {"operation": "update:Account", "mode": "fail", "code": "INVALID_VALUE"}
    await apply_kit.arm(zuora, fault)
    assert (await apply_kit.apply(http, api_key, request_id)).status_code == 202
    assert await fulfilment.advance(await apply_kit.run_of(request_id)) == "failed"

    text = await _scrape(http)
    name = "billing_gateway_provider_steps_total"
    for outcome, added in (("succeeded", 0), ("refused", 1)):
        was = _value(before, name, **step, outcome=outcome) or 0
        assert (_value(text, name, **step, outcome=outcome) or 0) == was + added
    created = {**step, "step": "create_sepa_method", "outcome": "succeeded"}
    assert _value(text, name, **created) == (_value(before, name, **created) or 0) + 1
    timed = _value(text, "billing_gateway_provider_step_seconds_count", **step) or 0
    assert timed == (_value(before, "billing_gateway_provider_step_seconds_count", **step) or 0) + 1
    # a refusal is the provider working: its circuit stays closed
    assert _value(text, "billing_gateway_provider_circuit_state", provider="zuora") == 0


def test_a_worker_serves_its_metrics_on_its_own_port(database_url: str, tmp_path: Path) -> None:
    port = free_port()
    environment = {**os.environ, "DATABASE_URL": database_url, "BG_WORKER_METRICS_PORT": str(port)}
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "gateway", "worker"],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()
                time.sleep(0.3)
        assert page.status_code == 200
        assert _value(page.text, "process_start_time_seconds") is not None  # the worker's own
    finally:
        worker.terminate()
        assert worker.wait(timeout=30) == 0
        log.close()


async def test_a_delivery_to_a_receiver_that_is_down_shows_as_failing(
    http: httpx.AsyncClient,
) -> None:
    notifications = delivery_kit.service()
    down = delivery_kit.Receiver(free_port())
    endpoint, _secret = await notifications.register(
        down.url, ["*"], "", "test-tool", delivery_kit.TOOL
    )
    await delivery_kit.event()
    await notifications.dispatch()
    await notifications.deliver(endpoint["id"])  # nobody listens: retried later

    text = await _scrape(http)
    name = "billing_gateway_notification_deliveries_failing"
    assert _value(text, name, state="failing") == 1
    assert _value(text, name, state="failed") == 0


async def test_a_refused_request_is_counted_under_its_own_status(http: httpx.AsyncClient) -> None:
    """A problem answered from an exception (bad key: 401) is not counted as a 200."""

    def count(status: int, text: str) -> float:
        pattern = (
            r'billing_gateway_requests_total\{[^}]*path="/v1/change-requests"[^}]*'
            rf'status_code="{status}"\}} (\S+)'
        )
        found = re.search(pattern, text)
        return float(found.group(1)) if found else 0.0

    before = await _scrape(http)
    response = await http.get(
        "/v1/change-requests", headers={"Authorization": "Bearer bgk_00000000_wrong"}
    )
    assert response.status_code == 401
    after = await _scrape(http)
    assert count(401, after) == count(401, before) + 1
    assert count(200, after) == count(200, before)


async def test_checkpoints_the_sink_has_not_taken_show_until_it_takes_them(
    http: httpx.AsyncClient, receiver: sinks_kit.Receiver, sink_setting: pytest.MonkeyPatch
) -> None:
    from audit.jobs import seal_and_checkpoint

    sinks_kit._use_sink(sink_setting, receiver.url())
    receiver.stop()  # the endpoint is down when the checkpoint is sealed
    await sinks_kit._write_entries(2)
    await seal_and_checkpoint(0)
    text = await _scrape(http)
    name = "billing_gateway_audit_checkpoints_not_copied"
    assert _value(text, name, sink=HttpSink(receiver.url()).name) == 1
    assert _value(text, "billing_gateway_business_probe_failed", probe="audit_checkpoints") == 0

    receiver.start()
    await seal_and_checkpoint(0)
    assert _value(await _scrape(http), name, sink=HttpSink(receiver.url()).name) == 0


async def test_scrapes_within_seconds_of_each_other_share_one_reading(
    http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    readings = 0
    read = metrics_endpoint._read_business

    async def counted() -> bytes:
        nonlocal readings
        readings += 1
        return await read()

    monkeypatch.setattr(metrics_endpoint, "_read_business", counted)
    forget_business_metrics()
    pages = await asyncio.gather(*(http.get("/metrics") for _ in range(20)))
    assert all(page.status_code == 200 for page in pages)
    assert readings == 1, "twenty scrapes at once: the database read once"

    async with superuser() as connection:
        await connection.execute(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, status, args)"
            " VALUES ('default', 'webhooks.process', 'failed', '{}')"
        )
    cached = (await http.get("/metrics")).text
    assert _value(cached, "billing_gateway_job_failures", task="webhooks.process") is None
    monkeypatch.setattr(metrics_endpoint, "CACHE_SECONDS", 0.0)  # as once the few seconds are past
    fresh = (await http.get("/metrics")).text
    assert _value(fresh, "billing_gateway_job_failures", task="webhooks.process") == 1
    assert readings == 2
