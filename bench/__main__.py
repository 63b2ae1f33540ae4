"""`uv run python -m bench [--quick]`: every phase, every bot, one local Synapse; a table and a JSON file."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from bench import appservice, report
from bench.appservice import AS_KINDS, AppserviceKind, Postgres, ReplicaGroup, replica_group
from bench.as_scale import at_scale
from bench.bots import BenchBot, Bot
from bench.diagnose import critical_path
from bench.failover import killer
from bench.phases import LatencySeries, burst, latency, restart_empty, warm_up
from bench.proxy import CountingProxy
from bench.rooms import PASSWORD, Person, baseline_person, bounded, register, surfaces_e2ee_person, surfaces_person
from bootstrap.homeserver import LocalSynapse, free_port
from tests.e2e.harness import REPO_ROOT

RESULTS = Path(__file__).resolve().parent / "results"
# mautrix_ordered is mautrix answering each room in order, as surfaces does: the same-room burst's baseline.
# surfaces_as / surfaces_as2: appservice mode, one replica / two (bench/appservice.py).
KINDS = ("nio", "mautrix", "mautrix_ordered", "surfaces", "surfaces_e2ee", *AS_KINDS)
# The wide burst (--wide) is for the plaintext sync-mode bots but the ordered baseline: many rooms, few messages
# each, where ordering does not bind (so mautrix's own way of answering is the baseline).
WIDE_KINDS = ("nio", "mautrix", "surfaces")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few messages and rooms: a smoke run of the harness")
    parser.add_argument("--latency-messages", type=int, help="sequential messages (default 200, quick 20)")
    parser.add_argument("--burst-users", type=int, help="default 10, quick 2")
    parser.add_argument("--burst-rooms", type=int, help="rooms per user (default 5, quick 2)")
    parser.add_argument("--burst-messages", type=int, help="messages per room (default 20, quick 5)")
    parser.add_argument("--scale-users", type=int, help="users of the start-up phase (default 100, quick 4)")
    parser.add_argument("--scale-rooms", type=int, help="chat rooms per user (default 10, quick 3)")
    parser.add_argument("--quiet", type=float, help="seconds without an answer that end a burst (default 30, quick 5)")
    parser.add_argument("--parallel", type=int, default=8, help="users onboarded at once while setting up")
    parser.add_argument(
        "--bots",
        default=",".join(KINDS),
        help="which bots, comma-separated (default: all; surfaces_e2ee is the surfaces bot in encrypted rooms)",
    )
    parser.add_argument(
        "--warm",
        action="store_true",
        help="answer one message in every room of the bursts (wide too) first: they then measure rooms in use",
    )
    parser.add_argument("--skip-scale", action="store_true", help="no start-up-at-scale phase (sync mode)")
    parser.add_argument(
        "--wide",
        action="store_true",
        help="a second burst over many rooms with few messages each, where ordering does not bind",
    )
    parser.add_argument("--wide-users", type=int, help="users of the wide burst (default 50, quick 4)")
    parser.add_argument("--wide-rooms", type=int, help="rooms per user in the wide burst (default 10, quick 3)")
    parser.add_argument("--wide-messages", type=int, help="messages per room in the wide burst (default 2)")
    parser.add_argument(
        "--as-rooms",
        help="appservice start-up at scale: rooms joined, comma-separated, grown in turn (default 1200, quick 40;"
        " 0 for none; 10000 takes long: see README)",
    )
    parser.add_argument(
        "--as-scale-only",
        action="store_true",
        help="only the appservice start-up at scale (surfaces_as): no latency, bursts or sync-mode scale",
    )
    parser.add_argument("--lease-s", type=float, default=10.0, help="SURFACES_LEASE_S of the appservice replicas")
    parser.add_argument(
        "--count-requests",
        action="store_true",
        help="every bot talks to the homeserver through the counting proxy (diagnosis: it costs CPU too)",
    )
    parser.add_argument(
        "--homeserver-metrics",
        action="store_true",
        help="split the homeserver's CPU in each burst by servlet and background process (Synapse's metrics)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (logs, databases)")
    args = parser.parse_args(argv)
    full = {"latency_messages": 200, "burst_users": 10, "burst_rooms": 5, "burst_messages": 20}
    full |= {"scale_users": 100, "scale_rooms": 10, "quiet": 30.0}
    full |= {"wide_users": 50, "wide_rooms": 10, "wide_messages": 2, "as_rooms": "1200"}
    quick = {"latency_messages": 20, "burst_users": 2, "burst_rooms": 2, "burst_messages": 5}
    quick |= {"scale_users": 4, "scale_rooms": 3, "quiet": 5.0}
    quick |= {"wide_users": 4, "wide_rooms": 3, "wide_messages": 2, "as_rooms": "40"}
    for name, value in (quick if args.quick else full).items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.as_scale_only:
        args.bots, args.skip_scale = "surfaces_as", True
    return args


@dataclass
class Contender:
    """One bot with its users: people[0] for latency, the rest for the burst; `wide` for the wide burst."""

    kind: str
    bot: Bot
    people: list[Person]
    out: dict[str, Any]
    proxy: CountingProxy | None  # its own, with --count-requests
    wide: list[Person]


def make_bot(kind: str, bot_id: str, synapse: LocalSynapse, root: Path, args: Any, url: str, planned: Any) -> Bot:
    """A process of its own, or for an appservice kind its replicas (the homeserver finds them by registration)."""
    if kind in AS_KINDS:
        return replica_group(planned[kind], synapse.url, root / kind, args.lease_s)
    return BenchBot(kind, bot_id, PASSWORD, root / kind, url)


async def prepare(
    kind: str, synapse: LocalSynapse, root: Path, args: Any, planned: dict[str, AppserviceKind]
) -> Contender:
    if kind in AS_KINDS:
        bot_id = planned[kind].user_id
    else:
        (bot_id,) = await register(synapse, f"bot-{kind}", 1)
    own_proxy = CountingProxy(synapse.url) if args.count_requests and kind not in AS_KINDS else None
    if own_proxy is not None:
        await own_proxy.start()
    bot = make_bot(kind, bot_id, synapse, root, args, own_proxy.url if own_proxy else synapse.url, planned)
    log(f"{kind}: starting")
    mark = time.monotonic()
    out: dict[str, Any] = {"user_id": bot_id, "first_start_s": round(await bot.start(), 3)}
    log(f"{kind}: ready, processes {bot.pids}")
    users = await register(synapse, f"{kind}-user", 1 + args.burst_users)
    log(f"{kind}: {len(users)} users, setting up rooms")
    rooms = [1] + [args.burst_rooms] * args.burst_users
    people = await make_people(kind, synapse.url, bot_id, users, rooms, args, root / kind / "people")
    wide: list[Person] = []
    if args.wide and kind in WIDE_KINDS:
        users = await register(synapse, f"{kind}-wide", args.wide_users)
        log(f"{kind}: {len(users)} users of the wide burst, setting up {args.wide_users * args.wide_rooms} rooms")
        rooms = [args.wide_rooms] * len(users)
        wide = await make_people(kind, synapse.url, bot_id, users, rooms, args, root / kind / "wide")
    for person in people + wide:
        await person.watch(bot_id)
    out["setup_s"] = round(time.monotonic() - mark, 1)
    return Contender(kind, bot, people, out, own_proxy, wide)


async def bench_bots(
    synapse: LocalSynapse, proxy: CountingProxy, root: Path, args: Any, planned: dict[str, AppserviceKind]
) -> dict[str, Any]:
    """All bots up on fresh rooms; latency interleaved; then one burst at a time (then the wide bursts, the
    failover); then the small restart."""
    contenders: list[Contender] = []
    try:
        for kind in args.bots.split(","):
            contenders.append(await prepare(kind, synapse, root, args, planned))
        log(f"latency: {args.latency_messages} messages per bot, interleaved")
        series = [LatencySeries(c.people[0], c.bot) for c in contenders]
        results = await latency(series, args.latency_messages)
        for contender, one, result in zip(contenders, series, results, strict=True):
            contender.out["latency"] = result
            if contender.proxy is not None:
                result["critical_path"] = critical_path(contender.proxy.records, one.timings)
            log(f"{contender.kind}: latency {result}")
        load = args.burst_users * args.burst_rooms * args.burst_messages
        for c in contenders:
            if args.warm:
                await warm_up(c.people[1:], c.bot.user_id)
            log(f"{c.kind}: burst, {load} messages at once")
            c.out["burst"] = await one_burst(c, c.people[1:], args.burst_messages, synapse, args)
            log(f"{c.kind}: burst {c.out['burst']}")
        for c in contenders:
            if c.wide:
                if args.warm:
                    await warm_up(c.wide, c.bot.user_id)
                rooms = sum(len(p.rooms) for p in c.wide)
                log(f"{c.kind}: wide burst, {args.wide_messages} messages in each of {rooms} rooms")
                c.out["wide_burst"] = await one_burst(c, c.wide, args.wide_messages, synapse, args)
                log(f"{c.kind}: wide burst {c.out['wide_burst']}")
        for c in contenders:
            if c.kind == "surfaces_as2" and isinstance(c.bot, ReplicaGroup):
                log(f"{c.kind}: failover, {load} messages at once, kill -9 of one replica a quarter in")
                kill = killer(c.bot, planned[c.kind], c.people[1:], args.lease_s)
                c.out["failover"] = await one_burst(c, c.people[1:], args.burst_messages, synapse, args, kill)
                log(f"{c.kind}: failover {c.out['failover']}")
        for c in contenders:
            if c.kind == "surfaces" and isinstance(c.bot, BenchBot):
                c.out["startup_small"] = await restart_empty(c.bot, proxy)
                log(f"{c.kind}: restart with an empty database {c.out['startup_small']}")
    finally:
        for c in contenders:
            for person in c.people + c.wide:
                await person.close()
            if c.bot.is_running():
                await c.bot.stop()
            if c.proxy is not None:
                await c.proxy.stop()
            c.out["peak_rss_mb"] = round(c.bot.peak_rss_mb, 1)
    return {c.kind: c.out for c in contenders}


async def one_burst(
    c: Contender, people: list[Person], per_room: int, synapse: LocalSynapse, args: Any, during: Any = None
) -> dict[str, Any]:
    return await burst(
        people,
        c.bot,
        per_room,
        args.quiet,
        cap_s=1800,
        homeserver_pid=homeserver_pid(),
        proxy=c.proxy,
        metrics_url=synapse.metrics_url,
        during=during,
    )


async def make_people(
    kind: str, url: str, bot_id: str, users: list[str], rooms: list[int], args: Any, stores: Path
) -> list[Person]:
    """surfaces_e2ee: people with an encrypting device each (its store under `stores`), in encrypted rooms."""
    if kind == "surfaces_e2ee":
        jobs = [
            lambda u=u, n=n: surfaces_e2ee_person(url, bot_id, u, n, stores) for u, n in zip(users, rooms, strict=True)
        ]
        return await bounded(args.parallel, jobs)  # type: ignore[arg-type]
    make = surfaces_person if kind in ("surfaces", *AS_KINDS) else baseline_person

    async def once_more(user: str, count: int) -> Person:
        # On a machine shared with other test runs an onboarding step may miss the helpers' 30 s wait: one more try.
        try:
            return await make(url, bot_id, user, count)
        except AssertionError as error:
            log(f"{kind}: setting up {user} failed, trying again: {str(error)[:200]}")
            return await make(url, bot_id, user, count)

    jobs = [lambda u=u, n=n: once_more(u, n) for u, n in zip(users, rooms, strict=True)]
    return await bounded(args.parallel, jobs)  # type: ignore[arg-type]


async def bench_scale(synapse: LocalSynapse, proxy: CountingProxy, root: Path, args: Any) -> dict[str, Any]:
    """Users × rooms created through the bot, then a restart with an empty database; peak RSS of both processes."""
    (bot_id,) = await register(synapse, "bot-scale", 1)
    bot = BenchBot("surfaces", bot_id, PASSWORD, root / "scale", synapse.url)
    await bot.start()
    users = await register(synapse, "scale-user", args.scale_users)
    started = time.monotonic()
    done = 0

    async def one(user: str) -> int:
        nonlocal done
        try:
            person = await surfaces_person(synapse.url, bot_id, user, args.scale_rooms)
        except AssertionError as error:
            log(f"scale: {user} failed: {str(error)[:200]}")
            return 0
        await person.close()
        done += 1
        if done % 10 == 0:
            bot.sample()
            log(f"scale: {done}/{len(users)} users onboarded, {time.monotonic() - started:.0f} s")
        return len(person.rooms)

    try:
        created = await bounded(args.parallel, [lambda u=u: one(u) for u in users])  # type: ignore[misc]
        setup_s = time.monotonic() - started
        peak_while_creating = bot.peak_rss_mb
        log(f"scale: {sum(created)} chat rooms in {setup_s:.0f} s; restarting with an empty database")
        restart = await restart_empty(bot, proxy)
    finally:
        if bot.process.is_running():
            await bot.stop()
    return {
        "user_id": bot_id,
        "users": len(users),
        "chat_rooms_created": sum(created),
        "users_failed": sum(1 for c in created if c == 0),
        "setup_s": round(setup_s, 1),
        **restart,
        "peak_rss_mb_creating": round(peak_while_creating, 1),
        "peak_rss_mb_restarted": round(bot.peak_rss_mb, 1),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="surfaces-bench-"))
    log(f"working directory {root}")
    metrics_port = free_port() if args.homeserver_metrics else None
    synapse = LocalSynapse(root / "synapse", port=free_port(), metrics_port=metrics_port)
    kinds = args.bots.split(",")
    # Registrations are read when Synapse starts, so the appservice kinds are planned before it.
    planned = {kind: appservice.plan(kind, synapse.server_name) for kind in kinds if kind in AS_KINDS}
    synapse.app_service_config_files = tuple(appservice.write_registration(k, root) for k in planned.values())
    postgres = Postgres() if planned else None
    started = time.monotonic()
    results: dict[str, Any] = {"bots": {}, "phase_seconds": {}}
    phases = results["phase_seconds"]
    await asyncio.to_thread(synapse.start)
    proxy = CountingProxy(synapse.url)
    await proxy.start()
    try:
        if postgres is not None:
            await asyncio.to_thread(postgres.start)
            for kind in planned.values():
                kind.database_url = await postgres.database(kind.kind)
                await appservice.register_sender(synapse.url, kind)
        if not args.as_scale_only:
            mark = time.monotonic()
            results["bots"] = await bench_bots(synapse, proxy, root, args, planned)
            phases["bots"] = round(time.monotonic() - mark, 1)
        if not args.skip_scale and "surfaces" in kinds:
            mark = time.monotonic()
            results["scale"] = await bench_scale(synapse, proxy, root, args)
            phases["scale"] = round(time.monotonic() - mark, 1)
        counts = [int(n) for n in args.as_rooms.split(",") if int(n) > 0]
        if "surfaces_as" in planned and counts:
            mark = time.monotonic()
            results["as_scale"] = await bench_as_scale(planned["surfaces_as"], synapse, root, args, counts)
            phases["as_scale"] = round(time.monotonic() - mark, 1)
    finally:
        log("stopping the homeserver")
        for kind in planned.values():
            if kind.forwarder is not None:
                await kind.forwarder.stop()
        await proxy.stop()
        await asyncio.to_thread(synapse.stop)
        if postgres is not None:
            postgres.stop()
        if args.keep:
            log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    results["run_seconds"] = round(time.monotonic() - started, 1)
    return results


async def bench_as_scale(
    kind: AppserviceKind, synapse: LocalSynapse, root: Path, args: Any, counts: list[int]
) -> list[dict[str, Any]]:
    """One replica of surfaces_as, restarted at each room count in turn (rooms grow from one count to the next)."""
    group = replica_group(kind, synapse.url, root / "as-scale", args.lease_s)
    out = []
    try:
        await group.start()
        for count in counts:
            log(f"as scale: growing to {count} rooms joined")
            one = await at_scale(group, kind, synapse.url, count, args.parallel)
            log(f"as scale: {one}")
            out.append(one)
    finally:
        await group.stop()
    return out


def homeserver_pid() -> int | None:
    """Our Synapse child process, found among this process's children."""
    for child in psutil.Process().children(recursive=True):
        try:
            if "synapse.app.homeserver" in " ".join(child.cmdline()):
                return child.pid
        except psutil.Error:
            continue
    return None


def source_commit() -> str | None:
    """The commit benchmarked (BENCH_SOURCE_COMMIT for an exported tree), `+dirty` with local changes."""
    if os.environ.get("BENCH_SOURCE_COMMIT"):
        return os.environ["BENCH_SOURCE_COMMIT"]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=REPO_ROOT, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.strip() else "")


def log(text: str) -> None:
    print(f"[bench {datetime.now(UTC):%H:%M:%S}] {text}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    results = asyncio.run(run(args))
    results["settings"] = {k: v for k, v in vars(args).items() if k != "keep"}
    results["source"] = source_commit()
    results["machine"] = {
        "cpus": psutil.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
    }
    results["targets"] = report.targets(results)
    if args.quick:
        print("quick run: a smoke test of the harness; its figures judge no target")
    print(report.table(results))
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{stamp}{'-quick' if args.quick else ''}.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwritten to {path.relative_to(RESULTS.parent.parent)}")


if __name__ == "__main__":
    main()
