"""Reconnect delays: exponential, capped, with jitter."""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """Delays between reconnect attempts.

    Jitter spreads the reconnects of many workers after a server restart, so they do not all
    knock at the same instant. Half of each delay is fixed, so a delay is never close to zero.
    """

    def __init__(
        self,
        initial: float = 0.5,
        maximum: float = 30.0,
        factor: float = 2.0,
        rand: Callable[[], float] = random.random,
    ) -> None:
        if initial <= 0 or maximum < initial or factor < 1:
            raise ValueError("need 0 < initial <= maximum and factor >= 1")
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self.attempts = 0
        self._rand = rand

    def next_delay(self) -> float:
        """The delay before the next attempt; each call counts one failed attempt."""
        ceiling = min(self.maximum, self.initial * self.factor**self.attempts)
        self.attempts += 1
        return ceiling / 2 + self._rand() * ceiling / 2

    def reset(self) -> None:
        """After a successful handshake the next failure starts from the initial delay again."""
        self.attempts = 0
