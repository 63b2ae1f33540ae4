"""The measured phases: latency, burst, start-up with an empty database, and the bare full-state sync floor."""

from __future__ import annotations

import asyncio
import math
import os
import statistics
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import psutil

from adapters.matrix.sync_loop import sync_filter
from bench import homeserver_metrics
from bench.bots import BenchBot, Bot, tree_cpu_seconds
from bench.matrix import LeanClient, reply_target
from bench.proxy import CountingProxy
from bench.rooms import PASSWORD, Person
from bootstrap.settings import Settings

Json = dict[str, Any]
WARM_UP = 5  # messages before the latency series, not counted: connections, the first answer's room title
ANSWER_TIMEOUT_S = 30.0


def percentile(values: list[float], share: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


async def answer_counts(person: Person, bot_user_id: str, sent: dict[str, str]) -> tuple[Counter[str], Json]:
    """From the rooms' histories (not the sync): how many echoes of the bot reply to each event sent
    (`sent`: event id → text), and of its replies to them: how many are something else (a notice), how many
    were m.room.encrypted, how many the person's device could not decrypt."""
    echoes: Counter[str] = Counter()
    seen = {"other_replies": 0, "encrypted_replies": 0, "undecryptable_replies": 0}
    for room_id in person.rooms:
        for event in await person.client.messages_from(room_id, bot_user_id):
            target = reply_target(event)
            if target not in sent:
                continue
            seen["encrypted_replies"] += event.get("type") == "m.room.encrypted"
            content = person.content_of(room_id, event)
            if content is None:
                seen["undecryptable_replies"] += 1
            elif content.get("body") == sent[target]:
                echoes[target] += 1
            else:
                seen["other_replies"] += 1
    return echoes, seen


def exactly_once(counts: Counter[str], sent: Iterable[str], other_replies: int = 0, **seen: int) -> Json:
    sent = list(sent)
    answered = sum(1 for event_id in sent if counts[event_id] >= 1)
    duplicates = sum(counts[event_id] - 1 for event_id in sent if counts[event_id] > 1)
    return {"sent": len(sent), "answered": answered, "duplicates": duplicates, "other_replies": other_replies, **seen}


class LatencySeries:
    """Sequential messages in one room: each is sent once the answer to the previous one has arrived.

    The series of the three bots are interleaved message by message by the caller, so that a neighbour's
    load on a shared machine falls on all of them alike; one message is in flight at a time.
    """

    def __init__(self, person: Person, bot: Bot) -> None:
        assert person.watcher is not None
        self.person, self.watcher, self.bot = person, person.watcher, bot
        self.tag = uuid.uuid4().hex[:6]
        self.round_trips: list[float] = []
        self.sent: dict[str, str] = {}  # event id → text
        self.timings: list[tuple[float, float, float]] = []  # (sent at, send returned at, answer seen at)

    async def one(self, number: int) -> None:
        """Message `number`; negative numbers are the warm-up, not counted."""
        started = time.monotonic()
        text = f"latency {self.tag} {number}"
        event_id = await self.person.send_text(self.person.rooms[0], text)
        put_done = time.monotonic()
        arrived = await self.watcher.answer_time(event_id, ANSWER_TIMEOUT_S)
        if number < 0:
            return
        self.sent[event_id] = text
        if arrived is not None:
            self.round_trips.append(arrived - started)
            self.timings.append((started, put_done, arrived))

    async def result(self) -> Json:
        self.bot.sample()
        echoes, seen = await answer_counts(self.person, self.bot.user_id, self.sent)
        counts = exactly_once(echoes, self.sent, **seen)
        trips = self.round_trips
        return {
            **counts,
            "answered_in_time": len(trips),
            "p50_ms": _ms(percentile(trips, 0.50)),
            "p95_ms": _ms(percentile(trips, 0.95)),
            "mean_ms": _ms(statistics.fmean(trips) if trips else None),
            "max_ms": _ms(max(trips, default=None)),
        }


async def latency(series: list[LatencySeries], messages: int) -> list[Json]:
    """Round-robin over the bots, the starting bot rotating each round; one message in flight at a time."""
    for number in range(-WARM_UP, messages):
        shift = number % len(series)
        for one in series[shift:] + series[:shift]:
            await one.one(number)
    return [await one.result() for one in series]


async def burst(
    people: list[Person],
    bot: Bot,
    per_room: int,
    quiet_s: float,
    cap_s: float,
    homeserver_pid: int | None = None,
    proxy: CountingProxy | None = None,
    metrics_url: str | None = None,
    during: Callable[[dict[int, dict[str, str]]], Awaitable[Json]] | None = None,
) -> Json:
    """Every user sends `per_room` messages into each of their rooms, all at once; then wait for quiet.

    With `proxy` (the bot talking to the homeserver through it) the bot's requests are counted by endpoint;
    with `metrics_url` (Synapse's metrics) the homeserver's CPU is split by servlet and background process;
    `during` runs once every message is sent (the failover phase's kill), and is awaited before the quiet.
    """
    tag = uuid.uuid4().hex[:6]
    texts = [
        (person, room, f"burst {tag} u{u} r{r} m{m}")
        for u, person in enumerate(people)
        for r, room in enumerate(person.rooms)
        for m in range(per_room)
    ]
    jobs = [(person, text, person.send_text(room, text)) for person, room, text in texts]
    positions = [await stream_position(person) for person in people]
    cpu_before, machine_before = bot.cpu_seconds(), machine_busy_seconds()
    homeserver_before = tree_cpu_seconds(homeserver_pid) if homeserver_pid else 0.0
    metrics_before = await homeserver_metrics.scrape(metrics_url) if metrics_url else None
    started = time.monotonic()
    results = await asyncio.gather(*(send for _, _, send in jobs), return_exceptions=True)
    sent_done = time.monotonic()
    sent_by: dict[int, dict[str, str]] = {id(p): {} for p in people}  # event id → text, per person
    for (person, text, _), result in zip(jobs, results, strict=True):
        if isinstance(result, str):
            sent_by[id(person)][result] = text
    send_errors = [str(r) for r in results if isinstance(r, BaseException)]
    side = await during(sent_by) if during is not None else None
    await _until_quiet(people, bot, sent_done, quiet_s, started + cap_s)
    cpu = bot.cpu_seconds() - cpu_before
    machine = machine_busy_seconds() - machine_before
    homeserver = tree_cpu_seconds(homeserver_pid) - homeserver_before if homeserver_pid else None
    window = time.monotonic() - started
    requests = proxy.between(started, time.monotonic()) if proxy is not None else None
    homeserver_split = None
    if metrics_url and metrics_before is not None:
        metrics_after = await homeserver_metrics.scrape(metrics_url)
        homeserver_split = homeserver_metrics.per_message(metrics_before, metrics_after, len(jobs))
    bot.sample()
    counts: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for person in people:
        echoes, one = await answer_counts(person, bot.user_id, sent_by[id(person)])
        counts.update(echoes)
        seen.update(one)
    out_of_order: Counter[str] = Counter()
    for person, since in zip(people, positions, strict=True):
        out_of_order.update(await rooms_out_of_order(person, bot.user_id, since))
    all_sent = {event_id for sent in sent_by.values() for event_id in sent}
    firsts = [
        person.watcher.arrivals[event_id][0]
        for person in people
        if person.watcher is not None
        for event_id in sent_by[id(person)]
        if person.watcher.arrivals.get(event_id)
    ]
    result = exactly_once(counts, all_sent, **seen)
    to_last = (max(firsts) - started) if firsts else None
    answered = result["answered"]
    return {
        **result,
        "attempted": len(jobs),
        "send_errors": len(send_errors),
        "send_error_sample": send_errors[:3],
        "seconds_to_send_all": round(sent_done - started, 3),
        "seconds_to_last_answer": _round(to_last),
        "answered_per_s": _round(answered / to_last if to_last else None),
        "bot_cpu_s": round(cpu, 3),
        "cpu_ms_per_answered": _round(1000 * cpu / answered if answered else None),
        "cpu_ms_per_sent": _round(1000 * cpu / len(all_sent) if all_sent else None),
        "homeserver_cpu_ms_per_sent": _round(1000 * homeserver / len(all_sent) if homeserver and all_sent else None),
        "bot_requests_by_endpoint": dict(requests.most_common()) if requests is not None else None,
        "homeserver_per_message": homeserver_split,
        # How busy the whole machine was (all CPUs, every process): neighbours show up here.
        "machine_busy_cpu_share": round(machine / window / (psutil.cpu_count() or 1), 2),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "watcher_limited_timelines": sum(p.watcher.limited_timelines for p in people if p.watcher),
        "rooms": sum(len(p.rooms) for p in people),
        "rooms_out_of_order": out_of_order["timeline"],
        "rooms_out_of_timestamp_order": out_of_order["timestamp"],
        **({"during": side} if side is not None else {}),
    }


# Every message of the burst, in the order the homeserver persisted them (a sync timeline is in stream order;
# /messages is in DAG order, where messages sent at once may share a depth and come out in either order).
_ORDER_FILTER: Json = {
    "room": {
        "timeline": {"limit": 1000, "types": ["m.room.message", "m.room.encrypted"]},
        "state": {"types": []},
        "ephemeral": {"types": []},
        "account_data": {"types": []},
    },
    "presence": {"types": []},
    "account_data": {"types": []},
}


async def stream_position(person: Person) -> str:
    """A sync token from before the burst: the timeline after it is the burst's, in stream order."""
    return str((await person.client.sync(None, 0, {"room": {"rooms": []}}))["next_batch"])


async def rooms_out_of_order(person: Person, bot_user_id: str, since: str) -> Counter[str]:
    """Rooms where the bot's answers do not come in the order of the messages they answer: `timeline` by the
    room's order (stream order, what every member sees), `timestamp` by the messages' origin_server_ts (the
    appservice inbox's order; messages sent at the same moment may be persisted in another order than their
    timestamps). A room whose timeline came back `limited` counts in both, as it could not be checked."""
    data = await person.client.sync(since, 0, _ORDER_FILTER)
    bad: Counter[str] = Counter()
    for room_id in person.rooms:
        timeline = data.get("rooms", {}).get("join", {}).get(room_id, {}).get("timeline", {})
        events = timeline.get("events", [])
        asked = [e for e in events if e.get("sender") == person.client.user_id]
        answers = [e for e in events if e.get("sender") == bot_user_id]
        by_stamp = sorted(asked, key=lambda e: e.get("origin_server_ts", 0))  # stable: ties keep stream order
        for name, order in (("timeline", asked), ("timestamp", by_stamp)):
            position = {e["event_id"]: number for number, e in enumerate(order)}
            answered = [position[target] for e in answers if (target := reply_target(e)) in position]
            bad[name] += bool(timeline.get("limited")) or answered != sorted(answered)
    return bad


async def warm_up(people: list[Person], bot_user_id: str, timeout_s: float = 120) -> None:
    """One message into every room, answered before the burst: a room's one-time work (surfaces titles a
    fresh room with its first answer) then falls outside the burst, which measures rooms in use (--warm)."""
    sent = [
        (person, room, await person.send_text(room, f"warm-up {uuid.uuid4().hex[:6]}"))
        for person in people
        for room in person.rooms
    ]
    deadline = time.monotonic() + timeout_s
    for person, room, event_id in sent:
        while not any(reply_target(e) == event_id for e in await person.client.messages_from(room, bot_user_id)):
            if time.monotonic() > deadline:
                raise RuntimeError(f"warm-up message {event_id} in {room} not answered within {timeout_s} s")
            await asyncio.sleep(0.5)


async def _until_quiet(people: list[Person], bot: Bot, sent_done: float, quiet_s: float, cap: float) -> None:
    """Returns once no answer has arrived for `quiet_s` seconds (or at the hard cap, which is reported)."""
    while time.monotonic() < cap:
        last = max([sent_done, *(p.watcher.last_arrival or 0.0 for p in people if p.watcher)])
        if time.monotonic() - last >= quiet_s:
            return
        bot.sample()
        await asyncio.sleep(0.5)


async def bare_sync(proxy: CountingProxy, bot: BenchBot, repeats: int = 3) -> Json:
    """The floor: one full-state initial sync of the bot account (its own filter; a new device, so no cache)."""
    client = await LeanClient.login(proxy.url, bot.user_id, PASSWORD, device="bench-floor")
    bot_filter = sync_filter(Settings.model_fields["sync_timeline_limit"].default)
    try:
        timings, rooms = [], 0
        for attempt in range(repeats):
            started = time.monotonic()
            # A distinct timeout each time: Synapse caches /sync answers keyed on it.
            data = await client.sync(None, 1000 + attempt, bot_filter, full_state=True)
            timings.append(time.monotonic() - started)
            rooms = len(data.get("rooms", {}).get("join", {}))
        started = time.monotonic()
        await client.sync(None, 2000, {}, full_state=True)
        unfiltered = time.monotonic() - started
    finally:
        await client.close()
    return {
        "rooms_joined": rooms,
        "seconds": round(statistics.median(timings), 3),
        "seconds_each": [round(t, 3) for t in timings],
        "seconds_default_filter": round(unfiltered, 3),
    }


async def restart_empty(bot: BenchBot, proxy: CountingProxy) -> Json:
    """Stop, measure the floor, delete the database, start through the counting proxy: seconds and requests."""
    await bot.stop()
    floor = await bare_sync(proxy, bot)
    bot.delete_database()
    bot.use_homeserver(proxy.url)
    seconds = await bot.start()
    requests = proxy.between(bot.started_at, bot.ready_at)
    largest = proxy.largest_response(bot.started_at, bot.ready_at)
    await asyncio.sleep(2)  # settled: what stays resident after start-up, against the peak
    bot.sample()
    return {
        "seconds_to_ready": round(seconds, 3),
        "floor": floor,
        "ratio_to_floor": round(seconds / floor["seconds"], 2) if floor["seconds"] else None,
        "requests": sum(requests.values()),
        "requests_by_endpoint": dict(requests.most_common()),
        "largest_response": {"endpoint": largest[0], "bytes": largest[1]} if largest else None,
        "peak_rss_mb": round(bot.peak_rss_mb, 1),
        "rss_mb_2s_after_ready": round(bot.rss_now_mb(), 1),
        "rss_during_start": _every_nth(bot.rss_during_start, 40),
    }


def _every_nth(samples: list[tuple[float, float]], keep: int) -> list[tuple[float, float]]:
    """About `keep` samples spread over the series, with the peak always among them."""
    if len(samples) <= keep:
        return samples
    step = len(samples) / keep
    kept = {samples[int(i * step)] for i in range(keep)} | {max(samples, key=lambda s: s[1]), samples[-1]}
    return sorted(kept)


def machine_busy_seconds() -> float:
    times = psutil.cpu_times()
    busy = ("user", "nice", "system", "irq", "softirq", "steal")  # guest time is already in user and nice
    return float(sum(getattr(times, name, 0.0) for name in busy))


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)
