"""Where the homeserver's CPU goes during a burst, from Synapse's own Prometheus counters (--homeserver-metrics).

Synapse charges the CPU of every request to its servlet and the CPU of its background work (persisting
events, notifying syncs, push actions) to a named process. The difference of two scrapes, divided by the
messages sent, tells which part of the homeserver a bot makes work harder.
"""

from __future__ import annotations

from collections import defaultdict

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

Sample = dict[tuple[str, str], float]  # (what, name) → seconds or count

_SERVLET_CPU = ("synapse_http_server_response_ru_utime_seconds", "synapse_http_server_response_ru_stime_seconds")
_SERVLET_COUNT = "synapse_http_server_response_count"
_BACKGROUND_CPU = ("synapse_background_process_ru_utime_seconds", "synapse_background_process_ru_stime_seconds")


async def scrape(url: str) -> Sample:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        text = await response.text()
    sample: Sample = defaultdict(float)
    for family in text_string_to_metric_families(text):
        for metric in family.samples:
            name, labels, value = metric.name.removesuffix("_total"), metric.labels, metric.value
            if name in _SERVLET_CPU:
                sample[("request cpu", f"{labels['method']} {labels['servlet']}")] += value
            elif name == _SERVLET_COUNT:
                sample[("requests", f"{labels['method']} {labels['servlet']}")] += value
            elif name in _BACKGROUND_CPU:
                sample[("background cpu", labels["name"])] += value
    return sample


def per_message(before: Sample, after: Sample, messages: int, top: int = 12) -> dict[str, dict[str, float]]:
    """CPU ms (and requests) per message sent, by servlet and background process, the largest first."""
    out: dict[str, dict[str, float]] = {}
    for what in ("request cpu", "background cpu", "requests"):
        scale = 1 if what == "requests" else 1000
        deltas = {
            name: (value - before.get((kind, name), 0.0)) * scale / messages
            for (kind, name), value in after.items()
            if kind == what
        }
        largest = sorted(((n, d) for n, d in deltas.items() if d > 0), key=lambda item: -item[1])[:top]
        out[what] = {name: round(delta, 3) for name, delta in largest}
    return out
