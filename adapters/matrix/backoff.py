"""Exponential back-off with jitter for reconnecting to the homeserver."""

import random
from dataclasses import dataclass


@dataclass
class Backoff:
    initial: float = 0.5
    maximum: float = 30.0
    attempt: int = 0

    def next_delay(self) -> float:
        # Full jitter: many bots reconnecting at once do not hammer the server in step.
        ceiling = min(self.maximum, self.initial * 2**self.attempt)
        self.attempt += 1
        return random.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.attempt = 0
