"""/metrics, /healthz and /readyz of a real server, and the Grafana dashboard in
packaging/server checked against what /metrics really serves."""

from __future__ import annotations

import json
import re
from pathlib import Path

import aiohttp
import grpc
import pytest
from prometheus_client.parser import text_string_to_metric_families

from proto.hivemind.v1 import job_pb2
from tests.kit.simulated_nodes import sim_node, submit_job, work

DASHBOARD = Path(__file__).resolve().parents[2] / "packaging" / "server" / "grafana-dashboard.json"


@pytest.fixture
def server_settings() -> dict:
    # Every scrape reads the network's state afresh (the default caches it for 5 s).
    return {"http_listen": "127.0.0.1:0", "web_state_cache_s": 0, "metrics_token": ""}


async def scrape(url: str, token: str = "") -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as http, http.get(f"{url}/metrics", headers=headers) as r:
        return r.status, await r.text()


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


@pytest.mark.db
async def test_metrics_count_calls_and_leases_and_read_the_network(server, stubs, user_session):
    _, before_text = await scrape(server.http_url)
    before = samples(before_text)
    alice = await user_session(server, "alice")
    bob = await user_session(server, "bob")
    await submit_job(stubs, alice, task_count=3)
    node = await sim_node(stubs, bob, "bob-box")
    assert await work(stubs, node, max_tasks=2) == 2
    with pytest.raises(grpc.aio.AioRpcError):  # no credential: refused, and counted
        await stubs.jobs.ListJobs(job_pb2.ListJobsRequest())

    status, text = await scrape(server.http_url)
    assert status == 200
    found = samples(text)

    def grew(name: str, **labels: str) -> float:
        return value(found, name, **labels) - value(before, name, **labels)

    lease = "/hivemind.v1.NodeService/LeaseTasks"
    assert grew("hivemind_rpc_handled_total", method=lease, code="OK") == 1
    assert grew("hivemind_rpc_handling_seconds_count", method=lease, code="OK") == 1
    refused = {"method": "/hivemind.v1.JobService/ListJobs", "code": "UNAUTHENTICATED"}
    assert grew("hivemind_rpc_handled_total", **refused) == 1
    assert grew("hivemind_tasks_leased_total") == 2
    assert grew("hivemind_lease_seconds_count") == 1
    assert grew("hivemind_attempts_reported_total", report="completed", outcome="accepted") == 2
    # The state of this server's network, read from its database.
    assert value(found, "hivemind_tasks", state="pending") == 1
    assert value(found, "hivemind_queue_depth") == 1
    assert value(found, "hivemind_jobs", state="running") == 1
    assert value(found, "hivemind_nodes", state="idle") == 1
    assert value(found, "hivemind_nodes", state="banned") == 0
    assert value(found, "hivemind_offered_cores") == 8
    assert value(found, "hivemind_offered_memory_bytes") == 16384 * 1024 * 1024
    assert value(found, "hivemind_users") == 2
    assert value(found, "hivemind_ledger_granted_ucpt") == 200_000_000  # two sign-up grants
    user_held = value(found, "hivemind_ledger_balance_ucpt", kind="user")
    escrow = value(found, "hivemind_ledger_balance_ucpt", kind="escrow")
    starter = value(found, "hivemind_ledger_balance_ucpt", kind="starter")
    # The grants are starter credit, apart from CPT: the job was paid from it.
    assert user_held + escrow + starter == 200_000_000 and escrow > 0 and starter > 0
    assert ("hivemind_bittorrent_uploaded_bytes_total", frozenset()) in found
    assert value(found, "process_resident_memory_bytes") > 0


async def test_metrics_token_and_probes(make_server):
    server = await make_server(http_listen="127.0.0.1:0", metrics_token="s3cret-scraper")
    assert (await scrape(server.http_url))[0] == 401
    assert (await scrape(server.http_url, "wrong"))[0] == 401
    assert (await scrape(server.http_url, "s3cret-scraper"))[0] == 200
    async with aiohttp.ClientSession() as http:
        for probe, answer in (("/healthz", "ok\n"), ("/readyz", "ready\n")):
            async with http.get(server.http_url + probe) as reply:
                assert (reply.status, await reply.text()) == (200, answer)
        await server.stop(grace=0)
        # Stopped: nothing answers any more.
        with pytest.raises(aiohttp.ClientConnectionError):
            async with http.get(server.http_url + "/healthz"):
                pass


def dashboard_expressions() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["title"] == "HiveMind server"
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


async def test_grafana_dashboard_graphs_only_metrics_the_server_serves(server, stubs, user_session):
    # Some of everything: calls, a lease, a report, so every series exists once.
    alice = await user_session(server, "alice")
    await submit_job(stubs, alice, task_count=1)
    await work(stubs, await sim_node(stubs, alice, "box"))
    _, text = await scrape(server.http_url)
    served = {name for name, _ in samples(text)}
    expressions = dashboard_expressions()
    assert len(expressions) >= 20
    named = {
        name
        for expression in expressions
        for name in re.findall(r"\b((?:hivemind|process)_[a-z_]+)\b", expression)
    }
    assert {"hivemind_rpc_handled_total", "hivemind_queue_depth", "hivemind_nodes"} <= named
    assert sorted(named - served) == []
