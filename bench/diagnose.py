"""Where a round trip goes, from the requests a bot made through its counting proxy.

During the latency phase one message is in flight at a time, and the sender and the proxies share one
clock, so each round trip splits into: the sender's send, the homeserver handing the message to the bot's
sync, the bot's own requests (and its work between them), and the answer reaching the sender's sync.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from typing import Any

from bench.proxy import Record

SYNC = "GET /v3/sync"
SEND = "PUT /v3/rooms/{id}/send/m.room.message/{key}"


def short(kind: str) -> str:
    if kind == SEND:
        return "send answer"
    if "/typing/" in kind:
        return "typing"
    if "/state/" in kind:
        return "state " + kind.split("/state/", 1)[1].split("/", 1)[0]
    return kind


def critical_path(records: list[Record], messages: list[tuple[float, float, float]]) -> dict[str, Any]:
    """Median ms of each step, over messages `(sent at, send returned at, answer seen at)` of one bot.

    Only messages whose bot requests follow the most common sequence are folded together.
    """
    done = sorted((r for r in records if r.finished is not None), key=lambda r: r.arrived)
    by_signature: dict[tuple[str, ...], list[dict[str, float]]] = defaultdict(list)
    syncs_per_message: list[int] = []
    for started, put_done, seen in messages:
        mine = [r for r in done if started <= r.arrived <= seen]
        # A long-poll that delivered the message was sent before it: syncs are placed by when they returned.
        syncs = [r.finished for r in done if r.kind == SYNC and started <= r.finished <= seen]  # type: ignore[operator]
        syncs_per_message.append(len(syncs))
        sends = [r for r in mine if r.kind == SEND]
        actions = [r for r in mine if r.kind != SYNC and (not sends or r.arrived <= sends[-1].arrived)]
        if not sends or not actions:
            continue
        delivered = max((at for at in syncs if at is not None and at <= actions[0].arrived), default=None)
        if delivered is None:
            continue
        steps = {"1 sender's send (PUT)": put_done - started, "2 homeserver → bot's sync": delivered - put_done}
        cursor = delivered
        for number, action in enumerate(actions, 1):
            steps[f"3.{number}a bot work before {short(action.kind)}"] = action.arrived - cursor
            steps[f"3.{number}b {short(action.kind)} round trip"] = action.finished - action.arrived  # type: ignore[operator]
            cursor = action.finished  # type: ignore[assignment]
        steps["4 answer stored → sender's sync"] = seen - cursor
        steps["total round trip"] = seen - started
        by_signature[tuple(short(a.kind) for a in actions)].append(steps)
    if not by_signature:
        return {"messages": 0}
    signature, folded = max(by_signature.items(), key=lambda item: len(item[1]))
    return {
        "messages": len(messages),
        "bot_requests_per_message": list(signature),
        "messages_with_that_sequence": len(folded),
        "bot_syncs_per_message": dict(Counter(syncs_per_message).most_common(4)),
        "median_ms": {name: round(1000 * statistics.median(s[name] for s in folded), 1) for name in folded[0]},
    }
