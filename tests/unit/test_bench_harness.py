"""Smoke test of the benchmark harness's own logic (bench/): no homeserver, no bot, no timing asserted."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
from aiohttp import web

from bench import homeserver_metrics, report
from bench.__main__ import parse_args
from bench.forwarder import RoundRobinForwarder
from bench.phases import exactly_once, percentile
from bench.proxy import CountingProxy, endpoint
from bootstrap.homeserver import free_port

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _bot(p50: float, p95: float, answered: int, per_s: float, cpu: float) -> dict[str, object]:
    latency = {"sent": 200, "answered": 200, "duplicates": 0, "p50_ms": p50, "p95_ms": p95}
    burst = {"sent": 1000, "answered": answered, "duplicates": 0, "send_errors": 0}
    burst |= {"seconds_to_last_answer": 40.0, "answered_per_s": per_s, "cpu_ms_per_answered": cpu}
    return {"latency": latency, "burst": burst, "peak_rss_mb": 50.0}


async def _sync(_: web.Request) -> web.Response:
    return web.json_response({"next_batch": "s1"})


@contextlib.asynccontextmanager
async def loopback(path: str, handler: Handler) -> AsyncIterator[str]:
    """A real HTTP server on 127.0.0.1 answering GET `path`; yields its base URL."""
    app = web.Application()
    app.router.add_get(path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def test_bench_harness_counts_requests_judges_targets_and_renders_a_table() -> None:
    async with loopback("/_matrix/client/v3/sync", _sync) as upstream:
        proxy = CountingProxy(upstream)
        await proxy.start()
        try:
            async with aiohttp.ClientSession() as session, session.get(f"{proxy.url}/_matrix/client/v3/sync") as r:
                assert (r.status, await r.json()) == (200, {"next_batch": "s1"})
            assert proxy.between(0, float("inf")) == Counter({"GET /v3/sync": 1})
        finally:
            await proxy.stop()

    assert endpoint("PUT", "/_matrix/client/v3/rooms/!a:x/send/m.room.message/t1") == (
        "PUT /v3/rooms/{id}/send/m.room.message/{key}"
    )
    assert percentile([3.0, 1.0, 2.0, 4.0], 0.5) == 2.0
    assert exactly_once(Counter({"$a": 2, "$b": 1}), {"$a", "$b", "$c"}) == {
        "sent": 3,
        "answered": 2,
        "duplicates": 1,
        "other_replies": 0,
    }
    assert parse_args(["--quick"]).burst_users == 2

    results: dict[str, object] = {
        "bots": {"nio": _bot(50, 80, 70, 2.0, 1.0), "mautrix": _bot(55, 90, 980, 25.0, 1.0)},
        "scale": None,
    }
    results["bots"]["surfaces"] = _bot(55, 90, 1000, 26.0, 2.0)  # type: ignore[index]
    results["targets"] = judged = report.targets(results)
    met = {t["target"]: t["met"] for t in judged}
    assert met["burst: every message answered exactly once"] is True
    assert met["latency p50 vs nio"] is True
    assert met["peak RSS with 1,000 rooms"] is None  # no scale phase in these results
    assert "NOT MET" not in report.table(results)


_SEND = 'method="PUT",servlet="RoomSendEventRestServlet",tag="",server_name="x"'
_SYNAPSE_METRICS = """\
# TYPE synapse_http_server_response_ru_utime_seconds counter
synapse_http_server_response_ru_utime_seconds_total{{{send}}} {put}
# TYPE synapse_http_server_response_ru_stime_seconds counter
synapse_http_server_response_ru_stime_seconds_total{{{send}}} 0.5
# TYPE synapse_http_server_response_count counter
synapse_http_server_response_count_total{{{send}}} {count}
# TYPE synapse_background_process_ru_utime_seconds counter
synapse_background_process_ru_utime_seconds_total{{name="persist_events",server_name="x"}} {persist}
"""


async def test_homeserver_metrics_split_the_cpu_of_a_burst_per_message() -> None:
    scrapes = iter([{"put": 1.0, "count": 10, "persist": 2.0}, {"put": 3.0, "count": 30, "persist": 2.0}])

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(text=_SYNAPSE_METRICS.format(send=_SEND, **next(scrapes)))

    async with loopback("/_synapse/metrics", metrics) as server:
        url = f"{server}/_synapse/metrics"
        before, after = await homeserver_metrics.scrape(url), await homeserver_metrics.scrape(url)

    split = homeserver_metrics.per_message(before, after, messages=10)
    assert split["request cpu"] == {"PUT RoomSendEventRestServlet": 200.0}  # 2 s over 10 messages
    assert split["requests"] == {"PUT RoomSendEventRestServlet": 2.0}
    assert split["background cpu"] == {}  # unchanged: left out


def _e2ee(bot: dict[str, object], encrypted: int, undecryptable: int = 0) -> dict[str, object]:
    """`bot` as the surfaces_e2ee row: its answers counted as m.room.encrypted, some perhaps unreadable."""
    for phase in ("latency", "burst"):
        counts = bot[phase]
        assert isinstance(counts, dict)
        counts |= {"other_replies": 0, "encrypted_replies": 0, "undecryptable_replies": 0}
    burst = bot["burst"]
    assert isinstance(burst, dict)
    burst |= {"encrypted_replies": encrypted, "undecryptable_replies": undecryptable}
    latency = bot["latency"]
    assert isinstance(latency, dict)
    latency["encrypted_replies"] = 200
    return bot


def test_the_encrypted_row_is_judged_against_the_plaintext_row_of_the_same_run() -> None:
    plain = _bot(60, 90, 1000, 30.0, 2.0)
    results: dict[str, object] = {
        "bots": {"surfaces": plain, "surfaces_e2ee": _e2ee(_bot(70, 100, 1000, 25.0, 2.8), 1000)}
    }
    met = {t["target"]: (t["value"], t["met"]) for t in report.encrypted_targets(results)}
    assert met["encrypted burst: every message answered exactly once"] == ("1000/1000, 0 dup", True)
    assert met["encrypted: every answer m.room.encrypted"] == ("1200/1200", True)
    assert met["encrypted burst: bot CPU per message vs plaintext"] == (1.4, True)
    assert met["encrypted latency p50 vs plaintext"] == (1.17, True)
    results["targets"] = report.targets(results)
    table = report.table(results)
    assert "e2ee ÷ surfaces" in table and "surfaces_e2ee" in table

    slow = _e2ee(_bot(80, 100, 990, 25.0, 3.2), 1000, undecryptable=10)
    met = {
        t["target"]: t["met"] for t in report.encrypted_targets({"bots": {"surfaces": plain, "surfaces_e2ee": slow}})
    }
    assert met == {
        "encrypted burst: every message answered exactly once": False,
        "encrypted: every answer m.room.encrypted": False,  # ten could not be decrypted by the person
        "encrypted burst: bot CPU per message vs plaintext": False,  # 1.6x
        "encrypted latency p50 vs plaintext": False,  # 1.33x
    }
    assert all(t["met"] is None for t in report.encrypted_targets({"bots": {"surfaces": plain}}))


async def test_the_forwarder_takes_turns_and_skips_a_replica_that_refuses() -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there: a killed replica
    async with loopback("/_matrix/app/v1/ping", _sync) as upstream:
        forwarder = RoundRobinForwarder([closed, upstream])
        await forwarder.start()
        try:
            async with aiohttp.ClientSession() as session:
                for _ in range(2):
                    async with session.get(f"{forwarder.url}/_matrix/app/v1/ping") as r:
                        assert r.status == 200
        finally:
            await forwarder.stop()
    assert forwarder.forwarded == Counter({upstream: 2}) and forwarder.refused == Counter({closed: 1})
