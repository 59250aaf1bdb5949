"""``tessera doctor URL``: the command-line wiring (arguments in, findings out).

Importing this module needs nothing beyond the standard library; ``run`` imports the
doctor's HTTP side, which needs the ``doctor`` extra (``httpx``, ``tldextract``).
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["EXTRA_MODULES", "add_arguments", "run"]

#: What ``pip install 'tessera-sessions[doctor]'`` adds, by import name.
EXTRA_MODULES = ("httpx", "tldextract")

DESCRIPTION = """\
Check a running app's session set-up from outside, as a browser running the SuperTokens
frontend SDK would: the refresh API, CORS with credentials, the session cookies'
Secure/SameSite/Domain/Path/size against the website's site, the front token, anti-CSRF
and clocks. Each finding says why a browser would not send or keep the session, and the
fix. Exit status: 1 when a check fails (or, with --strict, warns), else 0; 2 for bad
arguments or a missing extra.
"""

EXAMPLE = """\
example:
  tessera doctor http://localhost:8000 --website-domain http://localhost:3000 \\
      --login-path /login --login-body '{"userId": "doctor-test"}'
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", help="the API's base URL, e.g. https://api.example.com")
    parser.add_argument(
        "--website-domain",
        "--origin",
        dest="website",
        metavar="ORIGIN",
        help="the origin the frontend runs on, e.g. https://app.example.com",
    )
    parser.add_argument(
        "--api-base-path",
        default="/auth",
        metavar="PATH",
        help="where the session APIs live under URL, as the frontend's apiBasePath (default /auth)",
    )
    login = parser.add_argument_group("a test session (without one, fewer checks are made)")
    login.add_argument(
        "--login-path", metavar="PATH", help="a route of the app that logs a user in (POST)"
    )
    login.add_argument("--login-body", metavar="JSON", help="the JSON body the login route takes")
    login.add_argument(
        "--login-header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="an extra header for the login request (repeatable)",
    )
    login.add_argument("--access-token", metavar="TOKEN", help="an access token of a session")
    login.add_argument(
        "--refresh-token",
        metavar="TOKEN",
        help="a refresh token of a session (the doctor uses it up: it rotates)",
    )
    login.add_argument(
        "--auth-mode",
        choices=("cookie", "header"),
        default="cookie",
        help="the st-auth-mode to ask for, as the frontend's tokenTransferMethod (default cookie)",
    )
    output = parser.add_argument_group("output")
    output.add_argument("--json", action="store_true", help="print the findings as JSON")
    output.add_argument("--verbose", action="store_true", help="explain passed checks too")
    output.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    network = parser.add_argument_group("network")
    network.add_argument(
        "--timeout", type=float, default=10.0, metavar="SECONDS", help="per request (default 10)"
    )
    network.add_argument(
        "--insecure", action="store_true", help="do not verify the API's TLS certificate"
    )


def _headers(raw: list[str]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in raw:
        name, colon, value = item.partition(":")
        if not colon or not name.strip():
            raise ValueError(f"--login-header {item!r} must look like 'Name: value'")
        pairs.append((name.strip(), value.strip()))
    return tuple(pairs)


def run(args: argparse.Namespace) -> int:
    from .findings import exit_code
    from .plan import diagnose
    from .probe import HttpSender
    from .report import render_json, render_text
    from .settings import DoctorSettings

    try:
        settings = DoctorSettings(
            url=args.url,
            website=args.website,
            api_base_path=args.api_base_path,
            login_path=args.login_path,
            login_body=args.login_body,
            login_headers=_headers(args.login_header),
            access_token=args.access_token,
            refresh_token=args.refresh_token,
            auth_mode=args.auth_mode,
        )
    except ValueError as exc:
        print(f"tessera doctor: {exc}", file=sys.stderr)
        return 2
    with HttpSender(timeout=args.timeout, verify_tls=not args.insecure) as send:
        findings = diagnose(settings, send)
    refresh = settings.path(settings.api_base_path + "/session/refresh")
    if args.json:
        target = {"url": settings.url, "website": settings.website, "refresh_path": refresh}
        print(render_json(findings, target=target, strict=args.strict))
    else:
        website = f"website {settings.website}" if settings.website else "no website given"
        heading = f"tessera doctor: {settings.url} ({website}; refresh API at {refresh})"
        print(render_text(findings, heading=heading, verbose=args.verbose))
    return exit_code(findings, strict=args.strict)
