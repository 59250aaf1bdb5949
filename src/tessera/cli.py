"""The ``tessera`` command: start, list and stop core services, and uninstall.

tessera start [--host H] [--port P] [--config config.yaml] [--foreground]
tessera list
tessera stop [--port P]
tessera uninstall [--yes]
tessera keys generate | status | rewrap [--config config.yaml] [--database URL]
tessera doctor URL [--website-domain ORIGIN] [--login-path PATH --login-body JSON] ...
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from typing import Any

from . import __version__
from .doctor import command as doctor_command

__all__ = ["main"]

# The distribution's name on PyPI; the import name stays ``tessera``.
_DISTRIBUTION = "tessera-sessions"
# What ``pip install 'tessera-sessions[core]'`` adds, by import name.
_CORE_MODULES = ("uvicorn", "yaml", "httptools")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tessera",
        description="tessera session service: run the core that SuperTokens backend SDKs talk to.",
    )
    parser.add_argument("--version", action="version", version=f"tessera {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    start = commands.add_parser(
        "start", help="start a core (in the background unless --foreground)"
    )
    start.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    start.add_argument("--port", type=int, help="port to listen on (default 3567)")
    start.add_argument(
        "--config", metavar="PATH", help="a config.yaml (keys as in the SuperTokens core)"
    )
    start.add_argument(
        "--foreground", action="store_true", help="stay attached; logs go to the terminal"
    )
    commands.add_parser("list", help="list running cores: pid, host, port")
    stop = commands.add_parser("stop", help="stop running cores (all, or the one on --port)")
    stop.add_argument("--port", type=int, help="stop only the core on this port")
    uninstall = commands.add_parser("uninstall", help="stop cores and delete tessera's local state")
    uninstall.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    doctor = commands.add_parser(
        "doctor",
        help="check a running app's session set-up as a browser would see it",
        description=doctor_command.DESCRIPTION,
        epilog=doctor_command.EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    doctor_command.add_arguments(doctor)
    keys = commands.add_parser(
        "keys",
        help="encryption of the stored signing keys: generate a key, status, rewrap",
        description="Key-encryption keys (key_encryption_keys) and the stored keys they "
        "encrypt. status and rewrap read config.yaml (--config) and the environment "
        "(TESSERA_KEY_ENCRYPTION_KEYS, DATABASE_URL, TABLE_NAME_PREFIX) as tessera start does.",
    )
    from .core import key_commands

    key_commands.add_arguments(keys)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return 0
    if args.command == "start":
        return _start(args)
    if args.command == "list":
        return _list()
    if args.command == "stop":
        return _stop(args.port)
    if args.command == "doctor":
        return _doctor(args)
    if args.command == "keys":
        from .core import key_commands

        return key_commands.run(args)
    return _uninstall(args.yes)


def _doctor(args: argparse.Namespace) -> int:
    missing = [n for n in doctor_command.EXTRA_MODULES if importlib.util.find_spec(n) is None]
    if missing:
        print(
            f"tessera doctor needs the doctor extra: pip install '{_DISTRIBUTION}[doctor]' "
            f"(missing: {', '.join(missing)})",
            file=sys.stderr,
        )
        return 2
    return doctor_command.run(args)


def _start(args: argparse.Namespace) -> int:
    # Checked before anything starts: a background core would otherwise die in its log
    # and a foreground one with a traceback.
    missing = [name for name in _CORE_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        print(
            f"tessera start needs the core extra: pip install '{_DISTRIBUTION}[core]' "
            f"(missing: {', '.join(missing)})",
            file=sys.stderr,
        )
        return 2
    from .core.config import load_config

    overrides: dict[str, Any] = {}
    if args.host is not None:
        overrides["host"] = args.host
    if args.port is not None:
        overrides["port"] = args.port
    try:
        config = load_config(args.config, overrides=overrides)
    except ValueError as exc:
        print(f"tessera: {exc}", file=sys.stderr)
        return 2
    from .core.server import instances, refuse_unprotected, run_foreground

    refusal = refuse_unprotected(config)
    if refusal:
        print(f"tessera: {refusal}", file=sys.stderr)
        return 2

    if any(int(i["port"]) == config.port for i in instances()):
        print(f"tessera: a core is already running on port {config.port}", file=sys.stderr)
        return 1
    if args.foreground:
        run_foreground(config, os.path.abspath(args.config) if args.config else None, overrides)
        return 0
    return _start_background(args, config)


def _start_background(args: argparse.Namespace, config: Any) -> int:
    from .core.config import state_dir

    logs = state_dir() / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    output = logs / f"core-{config.port}.log"
    command = [sys.executable, "-m", "tessera", "start", "--foreground"]
    for flag in ("host", "port", "config"):
        value = getattr(args, flag)
        if value is not None:
            command += [f"--{flag}", os.path.abspath(value) if flag == "config" else str(value)]
    with open(output, "ab") as sink:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
            command, stdout=sink, stderr=sink, stdin=subprocess.DEVNULL, start_new_session=True
        )
    host = "127.0.0.1" if config.host in ("0.0.0.0", "::") else config.host  # noqa: S104
    url = f"http://{host}:{config.port}{config.base_path}/hello"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            print(f"tessera: the core did not start; see {output}", file=sys.stderr)
            return 1
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    where = f"http://{config.host}:{config.port}"
                    print(f"tessera core started on {where} (pid {process.pid})")
                    print(f"logs: {output}")
                    return 0
        except OSError:
            time.sleep(0.2)
    print(f"tessera: the core did not answer within 60 s; see {output}", file=sys.stderr)
    return 1


def _list() -> int:
    from .core.server import instances

    running = instances()
    if not running:
        print("no tessera core is running")
        return 0
    print(f"{'PID':>8}  {'HOST':<15}  PORT")
    for record in running:
        print(f"{record['pid']:>8}  {record['host']:<15}  {record['port']}")
    return 0


def _stop(port: int | None) -> int:
    from .core.server import instances, stop_instance

    chosen = [r for r in instances() if port is None or int(r["port"]) == port]
    if not chosen:
        print("no tessera core is running" + (f" on port {port}" if port else ""))
        return 0 if port is None else 1
    failed = 0
    for record in chosen:
        if stop_instance(record):
            print(f"stopped tessera core on port {record['port']} (pid {record['pid']})")
        else:
            print(f"tessera core pid {record['pid']} did not stop", file=sys.stderr)
            failed += 1
    return 1 if failed else 0


def _uninstall(yes: bool) -> int:
    from .core.config import state_dir

    folder = state_dir()
    if not yes:
        if not sys.stdin.isatty():
            print("tessera: uninstall needs confirmation; run it with --yes", file=sys.stderr)
            return 1
        answer = input(
            f"Stop running cores and delete {folder} (the default database and logs)? [y/N] "
        )
        if answer.strip().lower() not in ("y", "yes"):
            print("nothing removed")
            return 1
    _stop(None)
    if folder.exists():
        shutil.rmtree(folder)
        print(f"removed {folder}")
    else:
        print(f"nothing to remove at {folder}")
    print(f"to remove the package too: pip uninstall {_DISTRIBUTION}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
