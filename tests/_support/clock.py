"""A clock the tests move by hand."""

from __future__ import annotations


class FakeClock:
    """Milliseconds that move only when a test says so."""

    def __init__(self, start: int = 1_800_000_000_000) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * 1000)
