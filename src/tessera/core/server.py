"""Running the core: logging, the ASGI server (uvicorn, one process per CPU core), and
the small files through which ``tessera list`` and ``tessera stop`` find running cores.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from ..errors import KeyMaterialError, StorageError
from ..metrics import available as metrics_available
from .asgi import CoreApp
from .config import CoreConfig, load_config, state_dir
from .protocol import ConnectionLimits, LimitedHttpProtocol

__all__ = ["build_app", "configure_logging", "instances", "refuse_unprotected", "run_foreground"]

log = logging.getLogger("tessera.core")
_ENV_CONFIG = "TESSERA_CORE_CONFIG_FILE"
_ENV_OVERRIDES = "TESSERA_CORE_OVERRIDES"
#: Seconds in-flight requests get to finish when a core stops.
_GRACEFUL_SHUTDOWN = 10
_LEVELS = {
    "DEBUG": logging.DEBUG,
    "INFO": logging.INFO,
    "WARN": logging.WARNING,
    "ERROR": logging.ERROR,
}


def configure_logging(config: CoreConfig) -> None:
    """Info log (requests, start-up) and error log, to files or stdout/stderr."""
    root = logging.getLogger("tessera")
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.propagate = False
    if config.log_level == "NONE":
        root.addHandler(logging.NullHandler())
        return
    root.setLevel(_LEVELS[config.log_level])
    form = logging.Formatter("%(asctime)s %(process)d %(levelname)s %(name)s: %(message)s")
    info: logging.Handler = (
        logging.FileHandler(config.info_log_path)
        if config.info_log_path
        else logging.StreamHandler(sys.stdout)
    )
    info.addFilter(lambda record: record.levelno < logging.WARNING)
    errors: logging.Handler = (
        logging.FileHandler(config.error_log_path)
        if config.error_log_path
        else logging.StreamHandler(sys.stderr)
    )
    errors.setLevel(logging.WARNING)
    for handler in (info, errors):
        handler.setFormatter(form)
        root.addHandler(handler)


def build_app() -> CoreApp:
    """The uvicorn factory: each worker process loads the same settings."""
    path = os.environ.get(_ENV_CONFIG) or None
    overrides = json.loads(os.environ.get(_ENV_OVERRIDES, "{}"))
    config = load_config(path, overrides=overrides)
    configure_logging(config)
    LimitedHttpProtocol.limits = ConnectionLimits(
        header_timeout=config.request_header_timeout,
        body_timeout=config.request_body_timeout,
        max_connections=config.max_connections,
    )
    _exit_with_parent()
    return CoreApp(config)


def _exit_with_parent() -> None:
    """In a worker process: stop when the master is gone, even killed with SIGKILL,
    which it cannot pass on. An orphaned worker would go on serving the port, and a
    restarted core would find the port in use."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return  # the master itself: with one worker it serves in-process

    def watch() -> None:
        parent.join()  # returns when the parent's end of the pipe closes
        log.warning("master process %s is gone; worker %d stops", parent.pid, os.getpid())
        os.kill(os.getpid(), signal.SIGTERM)  # uvicorn's graceful shutdown
        time.sleep(_GRACEFUL_SHUTDOWN + 5)
        os._exit(1)

    threading.Thread(target=watch, name="tessera-parent-watch", daemon=True).start()


def refuse_unprotected(config: CoreConfig) -> str | None:
    """Why the core must not start as configured, if it must not."""
    if config.api_keys or config.is_loopback or config.allow_remote_without_api_key:
        return None
    return (
        f"refusing to listen on {config.host} without an API key: set api_keys, or "
        "allow_remote_without_api_key: true if a firewall protects this port"
    )


def run_foreground(config: CoreConfig, config_path: str | None, overrides: dict[str, Any]) -> None:
    import uvicorn

    configure_logging(config)
    refusal = refuse_unprotected(config)
    if refusal:
        raise SystemExit(f"tessera: {refusal}")
    if not config.api_keys:
        log.warning(
            "no API key set: listening on %s only; any local program can manage sessions",
            config.host,
        )
    if config.database_url is None:
        state_dir().mkdir(parents=True, exist_ok=True)
    # Create or migrate the tables, and the first signing keys, once before the workers
    # start: workers starting together would otherwise each make a key of their own, and
    # refuse each other's tokens until they next read the keys.
    try:
        prepared = CoreApp(config)
        try:
            prepared.check_key_material()
            prepared.load_key_set()
        finally:
            prepared.close()
    except StorageError as exc:
        raise SystemExit(
            f"tessera: cannot open the database {_redact(config.database)}: {exc}"
        ) from None
    except KeyMaterialError as exc:
        raise SystemExit(f"tessera: {exc}") from None
    os.environ[_ENV_CONFIG] = config_path or ""
    os.environ[_ENV_OVERRIDES] = json.dumps(overrides)
    record = _instance_file(config.port)
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"pid": os.getpid(), "host": config.host, "port": config.port}))
    workers = config.worker_count()
    log.info(
        "tessera core listening on http://%s:%d%s (%d worker processes, database %s)",
        config.host,
        config.port,
        config.base_path,
        workers,
        _redact(config.database),
    )
    server_config = uvicorn.Config(
        "tessera.core.server:build_app",
        factory=True,
        host=config.host,
        port=config.port,
        workers=workers,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN,
        http=LimitedHttpProtocol,
        loop="auto",  # uvloop where it is installed (the core extra brings it)
        ws="none",
        # The client address is the peer's; X-Forwarded-For is read only from the
        # trusted_proxies (core/guards.py), never from whoever connects.
        proxy_headers=False,
        timeout_keep_alive=config.keep_alive_timeout,
    )
    sock = _listen(config.host, config.port)
    metrics_dir = _share_metrics(workers)
    try:
        if workers > 1:
            from uvicorn.supervisors import Multiprocess

            Multiprocess(server_config, sockets=[sock]).run()
        else:
            uvicorn.Server(server_config).run(sockets=[sock])
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
        with contextlib.suppress(OSError):
            if json.loads(record.read_text()).get("pid") == os.getpid():
                record.unlink()


def _share_metrics(workers: int) -> str | None:
    """With several workers, a scrape reaches one of them: prometheus_client's
    multiprocess mode lets it answer for all, each worker writing its counters to files
    in a directory made here (or the operator's ``PROMETHEUS_MULTIPROC_DIR``). The
    directory made here is removed when the core stops."""
    if workers < 2 or os.environ.get("PROMETHEUS_MULTIPROC_DIR") or not metrics_available():
        return None
    path = tempfile.mkdtemp(prefix="tessera-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = path  # the workers are spawned after this
    return path


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, made with an explicit TCP protocol number: the worker
    processes inherit it, and asyncio turns Nagle's algorithm off (TCP_NODELAY) only on
    sockets that say they are TCP. Without it every keep-alive answer waits ~40 ms for
    a delayed ACK."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        raise SystemExit(f"tessera: cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


def _redact(url: str) -> str:
    """A database URL without its password, for logs."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        credentials, _, host = rest.rpartition("@")
        user = credentials.split(":", 1)[0]
        return f"{scheme}{sep}{user}:***@{host}"
    return url


def _instance_file(port: int) -> Path:
    return state_dir() / "instances" / f"{port}.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def instances() -> list[dict[str, Any]]:
    """Running cores started by this user (stale records are removed)."""
    found: list[dict[str, Any]] = []
    folder = state_dir() / "instances"
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            record = json.loads(path.read_text())
            pid = int(record["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if _alive(pid):
            found.append(record)
        else:
            with contextlib.suppress(OSError):
                path.unlink()
    return found


def stop_instance(record: dict[str, Any], timeout: float = 15) -> bool:
    import signal

    pid = int(record["pid"])
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            break
        time.sleep(0.1)
    else:
        return False
    with contextlib.suppress(OSError):
        _instance_file(int(record["port"])).unlink()
    return True
