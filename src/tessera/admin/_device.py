"""The device a session was made on, as the console and the admin API show it."""

from __future__ import annotations

__all__ = ["device_label"]

_MAX = 80


def device_label(user_agent: str | None) -> str:
    """A short label for ``user_agent`` (the raw agent, shortened to 80 characters);
    ``"unknown"`` when the client sent none. The one place to swap for a parsed label
    ("Firefox 128 on Windows")."""
    if not user_agent:
        return "unknown"
    return user_agent if len(user_agent) <= _MAX else user_agent[: _MAX - 1] + "…"
