"""Failover: `kill -9` of one of two appservice replicas in the middle of a burst, and how soon its people are
answered again by the other one.

The people "of the killed replica" are those it held a live lease on at the kill (the lease table, read just
before) who still had messages unanswered at the kill. For each of them: the take-over, when the surviving
replica logged `lease_taken` for them; and "answered again", the first answer to one of their pending messages
arriving after that take-over (answers the killed replica had already sent still arrive in the first few hundred
milliseconds after the kill; they are not the other replica's work and are left out). The target is on the
slowest person, from the kill: within the lease time + 5 s. Also reported: when the last message pending at the
kill was answered, which depends on how many were waiting as well.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.appservice import AppserviceKind, ReplicaGroup, lease_holders
from bench.rooms import Person

Json = dict[str, Any]
SentBy = dict[int, dict[str, str]]  # id(person) → event id → text


def answered_count(people: list[Person], sent_by: SentBy) -> int:
    return sum(
        1
        for person in people
        if person.watcher is not None
        for event_id in sent_by[id(person)]
        if person.watcher.arrivals.get(event_id)
    )


def killer(
    group: ReplicaGroup, kind: AppserviceKind, people: list[Person], lease_s: float, share: float = 0.25
) -> Callable[[SentBy], Awaitable[Json]]:
    """The burst's side task: once `share` of the messages are answered, kills the replica holding most people."""

    async def kill_midway(sent_by: SentBy) -> Json:
        total = sum(len(sent) for sent in sent_by.values())
        deadline = time.monotonic() + 300
        while answered_count(people, sent_by) < share * total and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)  # the watchers note arrivals; polling them costs nothing measured
        holders = await lease_holders(kind.database_url)
        ids = [kind.replica_id(n) for n in range(len(group.replicas))]
        held = Counter(holder for holder in holders.values() if holder in ids)
        victim = max(ids, key=lambda replica_id: held[replica_id])
        answered_before = answered_count(people, sent_by)
        killed_at, killed_wall = time.monotonic(), time.time()
        group.replicas[ids.index(victim)].kill()
        orphans = {person for person, holder in holders.items() if holder == victim}
        mine = [p for p in people if p.client.user_id in orphans and p.watcher is not None]
        pending = {id(p): [e for e in sent_by[id(p)] if not _arrived_before(p, e, killed_at)] for p in mine}
        await _until_answered(mine, pending, deadline=killed_at + lease_s + 120)
        survivors = [r.process.log_path for n, r in enumerate(group.replicas) if ids[n] != victim]
        taken = {
            person: at - killed_wall + killed_at for person, at in takeovers(survivors, killed_wall).items()
        }  # wall clock → monotonic
        outcome = _outcome(mine, pending, killed_at, taken)
        people_held = dict(held)
        return (
            {"killed_replica": victim, "people_held_at_kill": people_held, "lease_s": lease_s}
            | outcome
            | {"messages_answered_before_kill": f"{answered_before}/{total}"}
        )

    return kill_midway


def _arrived_before(person: Person, event_id: str, moment: float) -> bool:
    assert person.watcher is not None
    return any(at <= moment for at in person.watcher.arrivals.get(event_id, []))


async def _until_answered(people: list[Person], pending: dict[int, list[str]], deadline: float) -> None:
    while time.monotonic() < deadline:
        if all(p.watcher and p.watcher.arrivals.get(e) for p in people for e in pending[id(p)]):
            return
        await asyncio.sleep(0.05)


def takeovers(logs: list[Path], since_wall: float) -> dict[str, float]:
    """person → when a surviving replica first logged `lease_taken` for them after `since_wall` (Unix time)."""
    taken: dict[str, float] = {}
    for path in logs:
        for line in path.read_text(errors="replace").splitlines():
            if '"lease_taken"' not in line:
                continue
            try:
                entry = json.loads(line)
                at = datetime.fromisoformat(entry["timestamp"].replace("Z", "+00:00")).timestamp()
            except (ValueError, KeyError, TypeError):
                continue
            if at >= since_wall:
                taken[entry["person"]] = min(at, taken.get(entry["person"], at))
    return taken


def _outcome(people: list[Person], pending: dict[int, list[str]], killed_at: float, taken: dict[str, float]) -> Json:
    per_person: dict[str, Json] = {}
    lasts: list[float] = []
    unanswered = 0
    for person in people:
        assert person.watcher is not None
        mine = pending[id(person)]
        if not mine:
            continue
        times = sorted(min(person.watcher.arrivals[e]) for e in mine if person.watcher.arrivals.get(e))
        unanswered += len(mine) - len(times)
        lasts.extend(times)
        took_over = taken.get(person.client.user_id)
        again = [at for at in times if took_over is not None and at >= took_over]
        per_person[person.client.user_id] = {
            "pending_at_kill": len(mine),
            "s_to_take_over": _since(took_over, killed_at),
            "s_to_answered_again": _since(again[0] if again else None, killed_at),
            "answered_before_take_over": len(times) - len(again),
        }
    agains = [one["s_to_answered_again"] for one in per_person.values()]
    return {
        "orphaned_people_with_pending": len(per_person),
        "orphaned_messages_pending": sum(one["pending_at_kill"] for one in per_person.values()),
        "orphaned_messages_never_answered": unanswered,
        "per_person": per_person,
        "s_kill_to_every_orphan_answered_again": max(agains) if agains and None not in agains else None,
        "s_kill_to_first_orphan_answer": _since(min(lasts) if lasts else None, killed_at),
        "s_kill_to_last_orphan_answer": _since(max(lasts) if lasts else None, killed_at),
    }


def _since(moment: float | None, start: float) -> float | None:
    return None if moment is None else round(moment - start, 3)
