"""Issue 17's appservice targets, judged on one run's results (surfaces_as, surfaces_as2, the failover, at scale)."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]
READY_S, RSS_MB, CPU_MS, TWO_REPLICAS, FAILOVER_SLACK_S = 5.0, 150.0, 3.0, 0.95, 5.0


def _get(node: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _target(name: str, value: Any, limit: str, met: bool | None) -> Json:
    return {"target": name, "value": value, "limit": limit, "met": met}


def _once_in_order(phase: Json | None) -> tuple[str | None, bool | None]:
    """'answered/sent, dup, rooms out of order' and whether all were answered once, in order, without send errors.
    The order judged is the room's timeline (what every member sees); the timestamp order is printed beside it."""
    if not phase:
        return None, None
    stamps = phase.get("rooms_out_of_timestamp_order")
    value = f"{phase['answered']}/{phase['sent']}, {phase['duplicates']} dup, {phase['rooms_out_of_order']} unordered"
    value += f" ({stamps} by timestamp)" if stamps is not None else ""
    met = phase["answered"] == phase["sent"] and not phase["duplicates"] and not phase["rooms_out_of_order"]
    return value, met and not phase.get("send_errors")


def appservice_targets(results: Json) -> list[Json]:
    one = _get(results, "bots", "surfaces_as")
    two = _get(results, "bots", "surfaces_as2")
    if one is None and two is None and not results.get("as_scale"):
        return []
    out = scale_targets(results)
    value, met = _once_in_order(_get(one, "burst"))
    out.append(_target("appservice burst: every message answered once, in order", value, "all, 0 dup, 0", met))
    cpu = _get(one, "burst", "cpu_ms_per_answered")
    out.append(
        _target(
            "appservice burst: bot CPU per message, leases included", cpu, f"<= {CPU_MS:g} ms", _at_most(cpu, CPU_MS)
        )
    )
    value, met = _once_in_order(_get(two, "burst"))
    out.append(_target("two replicas burst: every message answered once, in order", value, "all, 0 dup, 0", met))
    rates = _get(two, "burst", "answered_per_s"), _get(one, "burst", "answered_per_s")
    ratio = round(rates[0] / rates[1], 2) if rates[0] is not None and rates[1] else None
    met = None if ratio is None else ratio >= TWO_REPLICAS
    out.append(_target("two replicas: answered/s vs one replica", ratio, f">= {TWO_REPLICAS}x", met))
    return out + failover_targets(_get(two, "failover"))


def scale_targets(results: Json) -> list[Json]:
    out = []
    for point in results.get("as_scale") or []:
        rooms = f"{point['rooms_joined']:,}"
        ready = point["seconds_to_ready"]
        out.append(
            _target(f"appservice /ready with {rooms} rooms", ready, f"<= {READY_S:g} s", _at_most(ready, READY_S))
        )
        rss = max(point["peak_rss_mb_creating"], point["peak_rss_mb_restarted"])
        out.append(
            _target(f"appservice replica peak RSS, {rooms} rooms", rss, f"<= {RSS_MB:g} MB", _at_most(rss, RSS_MB))
        )
    return out


def failover_targets(phase: Json | None) -> list[Json]:
    during = _get(phase, "during")
    value, met = _once_in_order(phase)
    out = [_target("failover burst: every message answered once, in order", value, "all, 0 dup, 0", met)]
    lease = _get(during, "lease_s")
    seconds = _get(during, "s_kill_to_every_orphan_answered_again")
    limit = f"<= lease {lease:g} + {FAILOVER_SLACK_S:g} s" if lease is not None else "<= lease + 5 s"
    met = None if seconds is None or lease is None else seconds <= lease + FAILOVER_SLACK_S
    out.append(_target("failover: each person of the killed replica answered again", seconds, limit, met))
    return out


def _at_most(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


def appservice_lines(results: Json) -> list[str]:
    """The start-up at scale and the failover, as sentences under the table."""
    lines = [_scale_line(point) for point in results.get("as_scale") or []]
    during = _get(results, "bots", "surfaces_as2", "failover", "during")
    if during:
        lines.append(_failover_line(during))
    return ["", *lines] if lines else []


def _scale_line(point: Json) -> str:
    made = f"{point['rooms_made']:,} made directly in {point['setup_s']} s"
    drained = f"transactions drained {point['s_until_transactions_drained']} s later"
    own = f"{point.get('s_logged_start_to_ready')} s from settings loaded to ready"
    ready = (
        f"restart to /ready {point['seconds_to_ready']} s (the bot's log: {own}; {point.get('cpu_s_to_ready')} CPU s)"
    )
    rss = f"peak RSS {point['peak_rss_mb_creating']} MB while the rooms were made, {point['peak_rss_mb_restarted']} MB"
    return f"appservice at scale: {point['rooms_joined']:,} rooms joined ({made}, {drained}); {ready}; {rss} after"


def _failover_line(during: Json) -> str:
    takeovers = [one["s_to_take_over"] for one in during["per_person"].values() if one["s_to_take_over"]]
    span = f"{min(takeovers)}-{max(takeovers)} s" if takeovers else "none logged"
    killed = f"kill -9 of {during['killed_replica']} with {during['messages_answered_before_kill']} answered"
    held = f"leases held at the kill {during['people_held_at_kill']}"
    waiting = (
        f"{during['orphaned_people_with_pending']} of its people had {during['orphaned_messages_pending']} waiting"
    )
    again = f"each answered again by the other replica within {during['s_kill_to_every_orphan_answered_again']} s"
    last = f"their last pending message after {during['s_kill_to_last_orphan_answer']} s (lease {during['lease_s']} s)"
    return f"failover: {killed} ({held}); {waiting}; take-overs after {span}; {again}; {last}"
