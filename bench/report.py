"""Targets of issues 8, 11 and 16 (encrypted rooms), judged on one run's results, and the table printed from them."""

from __future__ import annotations

import math
from typing import Any

Json = dict[str, Any]


def _get(results: Json, *path: str) -> Any:
    node: Any = results
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def _target(name: str, value: Any, limit: str, met: bool | None) -> Json:
    return {"target": name, "value": value, "limit": limit, "met": met}


def targets(results: Json) -> list[Json]:
    """Each target with the figure it was judged on; `met` is None when the run lacks the figures."""
    bot = lambda *p: _get(results, "bots", "surfaces", *p)  # noqa: E731
    nio = lambda *p: _get(results, "bots", "nio", *p)  # noqa: E731
    mautrix = lambda *p: _get(results, "bots", "mautrix", *p)  # noqa: E731
    out = []
    sent, answered, dups = bot("burst", "sent"), bot("burst", "answered"), bot("burst", "duplicates")
    once = None if sent is None else (answered == sent and dups == 0 and bot("burst", "send_errors") == 0)
    out.append(
        _target("burst: every message answered exactly once", f"{answered}/{sent}, {dups} dup", "all, 0 dup", once)
    )
    for name, other, limit in (("mautrix", mautrix, 1.0), ("nio", nio, 0.9)):
        ratio = _ratio(bot("burst", "answered_per_s"), other("burst", "answered_per_s"))
        out.append(
            _target(f"burst: answered/s vs {name}", ratio, f">= {limit}x", None if ratio is None else ratio >= limit)
        )
    cpu = bot("burst", "cpu_ms_per_answered")
    out.append(_target("burst: bot CPU per message", cpu, "<= 3 ms", None if cpu is None else cpu <= 3))
    for stat, limit in (("p50_ms", 1.15), ("p95_ms", 1.3)):
        ratio = _ratio(bot("latency", stat), nio("latency", stat))
        out.append(
            _target(f"latency {stat[:3]} vs nio", ratio, f"<= {limit}x", None if ratio is None else ratio <= limit)
        )
    ratio = _get(results, "scale", "ratio_to_floor")
    out.append(
        _target("start-up (empty db, 1,000 rooms) vs bare sync", ratio, "<= 2x", None if ratio is None else ratio <= 2)
    )
    exponent = growth_exponent(results)
    out.append(
        _target(
            "start-up requests grow sub-linearly in rooms",
            exponent,
            "exponent <= 0.5",
            None if exponent is None else exponent <= 0.5,
        )
    )
    rss = max(_get(results, "scale", "peak_rss_mb_creating") or 0, _get(results, "scale", "peak_rss_mb_restarted") or 0)
    out.append(_target("peak RSS with 1,000 rooms", rss or None, "<= 150 MB", None if not rss else rss <= 150))
    return out + encrypted_targets(results)


def encrypted_targets(results: Json) -> list[Json]:
    """Issue 16: the bot in encrypted rooms (surfaces_e2ee) against itself in plaintext rooms, same run."""
    e2ee = lambda *p: _get(results, "bots", "surfaces_e2ee", *p)  # noqa: E731
    plain = lambda *p: _get(results, "bots", "surfaces", *p)  # noqa: E731
    sent, answered, dups = e2ee("burst", "sent"), e2ee("burst", "answered"), e2ee("burst", "duplicates")
    once = None if sent is None else (answered == sent and dups == 0 and e2ee("burst", "send_errors") == 0)
    out = [
        _target(
            "encrypted burst: every message answered exactly once", f"{answered}/{sent}, {dups} dup", "all, 0 dup", once
        )
    ]
    # Every answer the bot gave in its encrypted rooms was m.room.encrypted (and opened by the person's device).
    replies = [
        e2ee(phase, key) for phase in ("latency", "burst") for key in ("answered", "duplicates", "other_replies")
    ]
    encrypted = [e2ee(phase, "encrypted_replies") for phase in ("latency", "burst")]
    unreadable = [e2ee(phase, "undecryptable_replies") for phase in ("latency", "burst")]
    if None in replies or None in encrypted:
        out.append(_target("encrypted: every answer m.room.encrypted", None, "all", None))
    else:
        total, sealed, lost = sum(replies), sum(encrypted), sum(u or 0 for u in unreadable)
        value = f"{sealed}/{total + lost}" + (f", {lost} undecryptable" if lost else "")
        out.append(
            _target("encrypted: every answer m.room.encrypted", value, "all", sealed == total + lost and not lost)
        )
    ratio = _ratio(e2ee("burst", "cpu_ms_per_answered"), plain("burst", "cpu_ms_per_answered"))
    out.append(
        _target(
            "encrypted burst: bot CPU per message vs plaintext",
            ratio,
            "<= 1.5x",
            None if ratio is None else ratio <= 1.5,
        )
    )
    ratio = _ratio(e2ee("latency", "p50_ms"), plain("latency", "p50_ms"))
    out.append(_target("encrypted latency p50 vs plaintext", ratio, "<= 1.2x", None if ratio is None else ratio <= 1.2))
    return out


def growth_exponent(results: Json) -> float | None:
    """k in requests ∝ rooms^k between the small restart and the restart at scale (1 = one request per room)."""
    small, large = _get(results, "bots", "surfaces", "startup_small"), _get(results, "scale")
    if not small or not large:
        return None
    rooms = (small["floor"]["rooms_joined"], large["floor"]["rooms_joined"])
    if rooms[1] <= rooms[0] or not small["requests"]:
        return None
    return round(math.log(large["requests"] / small["requests"]) / math.log(rooms[1] / rooms[0]), 2)


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return str(value)


def _answered(phase: Json | None) -> str:
    if not phase:
        return "–"
    dups = f" ({phase['duplicates']} dup)" if phase.get("duplicates") else ""
    return f"{phase['answered']}/{phase['sent']}{dups}"


def table(results: Json) -> str:
    bots = results.get("bots", {})
    kinds = [k for k in ("nio", "mautrix", "mautrix_ordered", "surfaces", "surfaces_e2ee") if k in bots]
    pairs = [("surfaces", "nio"), ("surfaces", "mautrix"), ("surfaces_e2ee", "surfaces")]
    heads = {"surfaces": "surfaces", "nio": "nio", "mautrix": "mautrix", "surfaces_e2ee": "e2ee"}
    rows: list[list[str]] = [["", *kinds, *(f"{heads[a]} ÷ {heads[b]}" for a, b in pairs)]]

    def row(label: str, values: list[Any], ratio: bool = True) -> None:
        by = dict(zip(kinds, values, strict=True))
        ratios = [_fmt(_ratio(by.get(a), by.get(b))) if ratio else "" for a, b in pairs]
        rows.append([label, *(_fmt(v) for v in values), *ratios])

    def text_row(label: str, texts: list[str]) -> None:
        rows.append([label, *texts, *("" for _ in pairs)])

    text_row("latency: answered/sent", [_answered(bots[k].get("latency")) for k in kinds])
    row("latency p50 (ms)", [_get(bots[k], "latency", "p50_ms") for k in kinds])
    row("latency p95 (ms)", [_get(bots[k], "latency", "p95_ms") for k in kinds])
    text_row("burst: answered/sent", [_answered(bots[k].get("burst")) for k in kinds])
    row("burst: s to last answer", [_get(bots[k], "burst", "seconds_to_last_answer") for k in kinds])
    row("burst: answered msgs/s", [_get(bots[k], "burst", "answered_per_s") for k in kinds])
    row("burst: CPU ms / answered msg", [_get(bots[k], "burst", "cpu_ms_per_answered") for k in kinds])
    row("burst: homeserver CPU ms / msg", [_get(bots[k], "burst", "homeserver_cpu_ms_per_sent") for k in kinds])
    row("peak RSS, latency+burst (MB)", [bots[k].get("peak_rss_mb") for k in kinds])
    lines = _grid(rows) + _critical_path_lines(bots, kinds)
    lines += ["", *_startup_lines(results), "", *_grid([["target", "value", "limit", "met"], *_target_rows(results)])]
    return "\n".join(lines)


def _critical_path_lines(bots: Json, kinds: list[str]) -> list[str]:
    """With --count-requests: the median latency round trip of each bot, step by step (ms)."""
    lines = []
    for kind in kinds:
        path = _get(bots[kind], "latency", "critical_path")
        if path and path.get("median_ms"):
            steps = ", ".join(f"{name} {ms}" for name, ms in path["median_ms"].items())
            syncs, count = next(iter(path["bot_syncs_per_message"].items()))
            lines.append(f"{kind} round trip, median ms ({syncs} bot syncs per message in {count}): {steps}")
    return ["", *lines] if lines else []


def _startup_lines(results: Json) -> list[str]:
    rows = [["start-up, empty database", "rooms", "s to /ready", "bare full-state sync s", "ratio", "requests"]]
    for label, phase in (
        ("surfaces, burst rooms", _get(results, "bots", "surfaces", "startup_small")),
        ("surfaces, scale", _get(results, "scale")),
    ):
        if phase:
            floor = phase["floor"]
            rows.append(
                [
                    label,
                    str(floor["rooms_joined"]),
                    _fmt(phase["seconds_to_ready"]),
                    _fmt(floor["seconds"]),
                    _fmt(phase["ratio_to_floor"]),
                    str(phase["requests"]),
                ]
            )
    scale = results.get("scale")
    lines = _grid(rows)
    if scale:
        lines.append(
            f"scale: {scale['chat_rooms_created']} chat rooms of {scale['users']} users created through the bot"
            f" in {scale['setup_s']} s; peak RSS {scale['peak_rss_mb_creating']} MB while creating,"
            f" {scale['peak_rss_mb_restarted']} MB after the restart"
        )
    return lines


def _target_rows(results: Json) -> list[list[str]]:
    met = {True: "met", False: "NOT MET", None: "n/a"}
    return [[t["target"], _fmt(t["value"]), t["limit"], met[t["met"]]] for t in results.get("targets", [])]


def _grid(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return lines
