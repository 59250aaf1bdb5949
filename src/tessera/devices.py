"""Readable device labels from user agents: "Firefox 128 on Windows".

The parsing is ua-parser's (the user-agent rules shared by the ua-parser projects in
many languages, kept up to date in the ``ua-parser-builtins`` package), installed with
``pip install 'tessera-sessions[devices]'``. When ``ua-parser-rs`` is installed too
(a prebuilt wheel on Linux with glibc 2.34 or later, macOS and Windows), ua-parser
uses its native matcher, about four times faster; tessera needs nothing else for it.

Results are cached per user agent (a bounded LRU), so a listing of sessions parses
each distinct agent once. Without ua-parser, nothing fails: a device is then labelled
by its user agent shortened, its browser and OS are ``None``, and a warning naming the
extra is logged once.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Device", "DeviceClass", "describe_device", "parser_available"]

log = logging.getLogger("tessera")

DeviceClass = Literal["desktop", "mobile", "tablet", "bot", "other"]

#: Distinct user agents whose descriptions are kept.
CACHE_SIZE = 4096
#: How much of a raw user agent a label keeps when it cannot be parsed.
_RAW_LABEL_LENGTH = 60

_MOBILE_OS = frozenset(
    {"iOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "Firefox OS", "Symbian OS"}
)
_DESKTOP_OS = frozenset(
    {
        "Windows",
        "Mac OS X",
        "Linux",
        "Ubuntu",
        "Fedora",
        "Debian",
        "Chrome OS",
        "FreeBSD",
        "OpenBSD",
        "NetBSD",
        "Solaris",
    }
)
_TABLET_HINT = re.compile(r"ipad|tablet|kindle|silk/|playbook|nexus (7|9|10)\b", re.IGNORECASE)
_BOT_HINT = re.compile(r"bot\b|crawler|spider|slurp|headless", re.IGNORECASE)


@dataclass(frozen=True, kw_only=True)
class Device:
    """What a user agent says about the device a session runs on."""

    #: The browser or client ("Firefox", "Mobile Safari", "curl"), and its major version.
    browser: str | None
    browser_version: str | None
    #: The operating system ("Windows", "iOS", "Android").
    os: str | None
    #: The device model, when the agent names one ("iPhone", "Pixel 8").
    model: str | None
    device_class: DeviceClass
    #: One line for a person: "Firefox 128 on Windows", "Chrome Mobile 126 on Android
    #: (Pixel 8)"; the agent itself, shortened, when nothing better is known.
    label: str


def parser_available() -> bool:
    """Whether ua-parser is installed (the ``devices`` extra)."""
    return _parser() is not None


def describe_device(user_agent: str | None) -> Device:
    """The device behind ``user_agent`` (``None``: unknown). Never raises."""
    if not user_agent:
        return _UNKNOWN
    return _describe(user_agent[:512])


_UNKNOWN = Device(
    browser=None,
    browser_version=None,
    os=None,
    model=None,
    device_class="other",
    label="Unknown device",
)


@functools.lru_cache(maxsize=CACHE_SIZE)
def _describe(user_agent: str) -> Device:
    parser = _parser()
    if parser is None:
        return _raw(user_agent)
    try:
        result = parser.parse(user_agent)
    except Exception:  # a parser bug must not break a listing
        log.debug("ua-parser failed on a user agent", exc_info=True)
        return _raw(user_agent)
    agent, system, device = result.user_agent, result.os, result.device
    browser = agent.family if agent is not None and agent.family != "Other" else None
    version = agent.major if agent is not None and browser else None
    os_name = system.family if system is not None and system.family != "Other" else None
    model = None
    if device is not None and device.family not in ("Other", "Spider", "Mac"):
        model = device.model or device.family
    kind = _device_class(user_agent, os_name, device.family if device else None, device)
    if browser is None and os_name is None:
        return Device(
            browser=None,
            browser_version=None,
            os=None,
            model=model,
            device_class=kind,
            label=_shortened(user_agent),
        )
    label = " ".join(filter(None, (browser or "Unknown browser", version)))
    if os_name:
        label += f" on {os_name}"
    if model and kind in ("mobile", "tablet") and model not in label:
        label += f" ({model})"
    return Device(
        browser=browser,
        browser_version=version,
        os=os_name,
        model=model,
        device_class=kind,
        label=label,
    )


def _device_class(
    user_agent: str, os_name: str | None, family: str | None, device: Any
) -> DeviceClass:
    if family == "Spider" or _BOT_HINT.search(user_agent):
        return "bot"
    brand = getattr(device, "brand", None) or ""
    if _TABLET_HINT.search(user_agent) or "Tablet" in brand:
        return "tablet"
    if os_name == "Android" and "mobile" not in user_agent.lower():
        return "tablet"  # Android browsers say "Mobile" on phones only
    if os_name in _MOBILE_OS:
        return "mobile"
    if os_name in _DESKTOP_OS:
        return "desktop"
    return "other"


def _raw(user_agent: str) -> Device:
    return Device(
        browser=None,
        browser_version=None,
        os=None,
        model=None,
        device_class="other",
        label=_shortened(user_agent),
    )


def _shortened(user_agent: str) -> str:
    text = " ".join(user_agent.split())  # no line breaks or runs of spaces in a label
    if len(text) <= _RAW_LABEL_LENGTH:
        return text
    return text[: _RAW_LABEL_LENGTH - 1].rstrip() + "…"


_lock = threading.Lock()
_loaded: list[Any] = []  # [parser or None], once tried


def _parser() -> Any:
    if _loaded:
        return _loaded[0]
    with _lock:
        if not _loaded:
            _loaded.append(_load_parser())
    return _loaded[0]


def _load_parser() -> Any:
    try:
        import ua_parser
    except ImportError:
        log.warning(
            "ua-parser is not installed: device labels show the raw user agent; "
            "pip install 'tessera-sessions[devices]' for readable ones"
        )
        return None
    # The best matcher installed (ua-parser-rs when present), without ua-parser's own
    # cache: ours keeps whole descriptions.
    return ua_parser.Parser(ua_parser.BestAvailableResolver(ua_parser.load_builtins()))
