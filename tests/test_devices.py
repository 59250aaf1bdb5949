"""Device labels parsed from user agents by ua-parser, and the fallback without it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tessera.devices import Device, describe_device, parser_available

FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
SAFARI_IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
CHROME_PIXEL = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)
CHROME_ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
EDGE_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0"
)
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.mark.parametrize(
    ("agent", "label", "kind"),
    [
        (FIREFOX_WINDOWS, "Firefox 128 on Windows", "desktop"),
        (EDGE_MAC, "Edge 126 on Mac OS X", "desktop"),
        (SAFARI_IPHONE, "Mobile Safari 17 on iOS (iPhone)", "mobile"),
        (CHROME_PIXEL, "Chrome Mobile 126 on Android (Pixel 8)", "mobile"),
        (SAFARI_IPAD, "Mobile Safari 17 on iOS (iPad)", "tablet"),
        (CHROME_ANDROID_TABLET, "Chrome 126 on Android (SM-X710)", "tablet"),
        (GOOGLEBOT, "Googlebot 2", "bot"),
        ("curl/8.5.0", "curl 8", "other"),
    ],
)
def test_common_agents_get_readable_labels(agent: str, label: str, kind: str) -> None:
    device = describe_device(agent)
    assert (device.label, device.device_class) == (label, kind)


def test_the_parts_of_a_label_are_there_on_their_own() -> None:
    assert describe_device(CHROME_PIXEL) == Device(
        browser="Chrome Mobile",
        browser_version="126",
        os="Android",
        model="Pixel 8",
        device_class="mobile",
        label="Chrome Mobile 126 on Android (Pixel 8)",
    )


def test_unknown_and_odd_agents_never_fail() -> None:
    assert describe_device(None).label == "Unknown device"
    assert describe_device("").label == "Unknown device"
    # Not recognised: the agent itself, on one line and shortened.
    odd = describe_device("my-client/1.0\r\n" + "x" * 200)
    assert (odd.browser, odd.device_class) == (None, "other")
    assert "\n" not in odd.label
    assert len(odd.label) <= 60
    assert odd.label.startswith("my-client/1.0")
    assert describe_device("\ud800 broken").label  # a lone surrogate is just text here


def test_the_extra_is_installed_here() -> None:
    # The test environment has the devices extra: the labels above come from ua-parser.
    assert parser_available()


def test_without_ua_parser_labels_are_the_raw_agent_and_a_warning_names_the_extra() -> None:
    script = (
        "import sys, logging\n"
        "sys.modules['ua_parser'] = None  # as if not installed\n"
        "logging.basicConfig(level=logging.WARNING)\n"
        "import tessera\n"
        "from tessera.devices import describe_device, parser_available\n"
        f"print(describe_device({FIREFOX_WINDOWS!r}).label)\n"
        "print(describe_device('curl/8').label)\n"
        "print(parser_available())\n"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.splitlines() == [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/2…",
        "curl/8",
        "False",
    ]
    assert done.stderr.count("tessera-sessions[devices]") == 1
