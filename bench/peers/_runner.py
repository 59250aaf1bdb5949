"""Runs the plan: for each target, start its server (and the core it needs), measure each
work item, record peak memory, stop everything."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import socket
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from . import _pg
from ._servers import HOST, Server, ServerFailed, free_port
from ._setup import Prepared, prepare_all
from ._targets import GROWTH_WORKS, Settings, Target
from ._wrk import WrkResult, run_wrk

__all__ = ["Cell", "Run", "run_targets"]

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Cell:
    target: str
    work: str
    #: Stored sessions in the table at the time (growth rows), else None.
    stored: int | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)
    unavailable: str | None = None

    def values(self, key: str) -> list[float]:
        return [float(r[key]) for r in self.runs if key in r]

    def median(self, key: str) -> float | None:
        values = self.values(key)
        return statistics.median(values) if values else None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"target": self.target, "work": self.work, "stored": self.stored}
        if self.unavailable:
            out["unavailable"] = self.unavailable
            return out
        out["runs"] = self.runs
        for key in ("rps", "p50_ms", "p99_ms", "ms"):
            values = self.values(key)
            if values:
                out[key] = {
                    "median": statistics.median(values),
                    "min": min(values),
                    "max": max(values),
                }
        return out


@dataclass
class Run:
    settings: Settings
    postgres_url: str
    redis_url: str
    run_id: str = field(default_factory=lambda: f"bp{os.getpid()}")
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="bench-peers-")))
    cells: list[Cell] = field(default_factory=list)
    rss_kib: dict[str, dict[str, int | None]] = field(default_factory=dict)
    log: Any = sys.stderr

    def say(self, text: str) -> None:
        print(text, file=self.log, flush=True)

    @property
    def schema(self) -> str:
        return self.run_id

    @property
    def table_prefix(self) -> str:
        return f"{self.run_id}_"


def run_targets(run: Run, targets: list[Target]) -> None:
    keys = _make_keys(run.workdir)
    pg_problem = _pg.reachable(run.postgres_url)
    if pg_problem is None:
        _pg.ensure_schema(run.postgres_url, run.schema)
    redis_problem = _redis_problem(run.redis_url)
    reasons = {t.name: _why_unavailable(t, pg_problem, redis_problem) for t in targets}
    ready = [t for t in targets if reasons[t.name] is None]
    core: Server | None = None
    try:
        if any(t.needs_core for t in ready):
            try:
                core = _start_core(run, _target_env(run, next(t for t in ready if t.needs_core)))
            except ServerFailed as error:
                run.say(f"  tessera core: {error}")
        growth = _growth_target(run, ready)
        prepared = prepare_all(
            run.settings,
            run.workdir,
            ready,
            lambda t: _target_env(run, t),
            core.env["BENCH_SELF_URL"] if core else None,
            [f"g{size}" for size in run.settings.growth] if growth else [],
            run.say,
        )
        for target in targets:
            reason = reasons[target.name] or (
                prepared[target.name].problem and f"unavailable: {prepared[target.name].problem}"
            )
            if reason is None:
                try:
                    _run_target(run, target, keys, prepared[target.name], core)
                    continue
                except (ServerFailed, RuntimeError, OSError) as error:
                    reason = f"unavailable: {str(error)[:300]}"
            run.say(f"  {target.name}: {reason}")
            run.cells += [Cell(target.name, w, unavailable=reason) for w in target.works()]
            if target.needs_core and core is not None:
                core.stop()
        if growth is not None and not prepared[growth.name].problem:
            _run_growth(run, growth, keys, prepared[growth.name])
    finally:
        if core is not None:
            core.stop()
        if pg_problem is None:
            _pg.drop_run_objects(run.postgres_url, run.schema, run.table_prefix)


def _growth_target(run: Run, ready: list[Target]) -> Target | None:
    if not run.settings.growth:
        return None
    return next((t for t in ready if t.growth), None)


def _why_unavailable(target: Target, pg: str | None, redis: str | None) -> str | None:
    missing = [m for m in target.needs if importlib.util.find_spec(m) is None]
    if missing:
        return f"unavailable: not installed here: {', '.join(missing)} (run without --in-place)"
    if target.store == "postgresql" and pg:
        return f"unavailable: {pg}"
    if target.needs_redis and redis:
        return f"unavailable: {redis}"
    return None


def _redis_problem(url: str) -> str | None:
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or HOST, parts.port or 6379), 3) as s:
            s.sendall(b"PING\r\n")
            if not s.recv(16).startswith(b"+PONG"):
                return "Redis did not answer PING"
    except OSError as error:
        return f"Redis unreachable: {error}"
    return None


# -- one target ------------------------------------------------------------------


def _target_env(run: Run, target: Target) -> dict[str, str]:
    short = target.name.replace("-", "_")
    # tessera's embedded targets share one database per store (and so its keys and the
    # tokens minted in set-up); each framework has its own users for list and revoke-all.
    prefix = f"{run.table_prefix}tessera_" if target.is_tessera else f"{run.table_prefix}{short}_"
    env = {
        **os.environ,
        **target.env,
        "BENCH_KEY_DIR": str(run.workdir),
        "BENCH_USERS": "1000",
        "BENCH_PREFIX": prefix,
        "BENCH_REDIS_URL": run.redis_url,
        "BENCH_REDIS_PREFIX": f"{run.run_id}:",
        "PYTHONPATH": str(ROOT),
        **_pg_env(run),
    }
    database = "tessera" if target.is_tessera else short
    env["BENCH_DATABASE"] = (
        f"sqlite:///{run.workdir / (database + '.db')}"
        if target.store == "sqlite"
        else run.postgres_url
    )
    return env


def _start_app(run: Run, target: Target, core: Server | None) -> tuple[Server, str]:
    env = _target_env(run, target)
    if target.needs_core:
        if core is None:
            raise RuntimeError("the core did not start")
        env["BENCH_CORE_URL"] = core.env["BENCH_SELF_URL"]
    port = free_port()
    short = target.name.replace("-", "_")
    app = Server(target.name, _command(target, port), env, run.workdir / f"{short}.log")
    base = f"http://{HOST}:{port}"
    app.start(f"{base}/open")
    return app, base


def _run_target(
    run: Run, target: Target, keys: dict[str, Any], prepared: Prepared, core: Server | None
) -> None:
    run.say(f"* {target.name}: {target.label}")
    app: Server | None = None
    try:
        app, base = _start_app(run, target, core)
        _measure_target(run, target, base, keys, app, prepared)
    finally:
        run.rss_kib[target.name] = {}
        if target.needs_core and core is not None:
            core.stop()
            run.rss_kib[target.name]["core"] = core.peak_rss_kib
        if app is not None:
            app.stop()
            run.rss_kib[target.name]["app"] = app.peak_rss_kib


def _run_growth(run: Run, target: Target, keys: dict[str, Any], prepared: Prepared) -> None:
    """Rows 2-4 again on tessera (FastAPI, PostgreSQL) with 10^4..10^6 sessions stored:
    after every tessera target, since they share its table."""
    run.say(f"* growth: {target.label}")
    app, base = _start_app(run, target, None)
    try:
        table = f"{_target_env(run, target)['BENCH_PREFIX']}sessions"
        loaded = 0
        for size in run.settings.growth:
            seconds = _pg.bulk_load_sessions(run.postgres_url, table, loaded, size - loaded)
            loaded = size
            stored = _pg.count_sessions(run.postgres_url, table)
            run.say(f"  loaded {size:,} sessions in {seconds:.1f} s ({stored:,} rows)")
            slot = Prepared(prepared.folder, f"g{size}")
            _measure_target(run, target, base, keys, app, slot, stored=stored)
    finally:
        app.stop()


def _command(target: Target, port: int) -> list[str]:
    if target.server == "asgi":
        return [
            sys.executable, "-m", "uvicorn", f"{target.module}:app", "--host", HOST,
            "--port", str(port), "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
    return [
        sys.executable, "-m", "gunicorn", f"{target.module}:app", "-b", f"{HOST}:{port}",
        "-w", "1", "-k", "gthread", "--threads", "4", "--log-level", "warning",
    ]  # fmt: skip


def _pg_env(run: Run) -> dict[str, str]:
    parts = urlsplit(run.postgres_url)
    return {
        "BENCH_PG_SCHEMA": run.schema,
        "BENCH_PG_NAME": parts.path.lstrip("/") or "postgres",
        "BENCH_PG_USER": parts.username or "postgres",
        "BENCH_PG_PORT": str(parts.port or 5432),
        "BENCH_SQLALCHEMY_URL": run.postgres_url.replace(
            "postgresql://", "postgresql+asyncpg://", 1
        ),
    }


def _start_core(run: Run, env: dict[str, str]) -> Server:
    port = free_port()
    home = run.workdir / "core-home"
    home.mkdir(exist_ok=True)
    config = run.workdir / "core.yaml"
    config.write_text(
        f"database_url: {run.postgres_url}\n"
        f"table_name_prefix: {run.table_prefix}core_\n"
        "workers: 1\nlog_level: WARN\n"
    )
    command = [sys.executable, "-m", "tessera", "start", "--foreground"]
    command += ["--port", str(port), "--config", str(config)]
    core_env = {**env, "TESSERA_HOME": str(home), "BENCH_SELF_URL": f"http://{HOST}:{port}"}
    core = Server("tessera core", command, core_env, run.workdir / "core.log")
    core.start(f"http://{HOST}:{port}/hello")
    return core


def _measure_target(
    run: Run,
    target: Target,
    base: str,
    keys: dict[str, Any],
    app: Server,
    prepared: Prepared,
    *,
    stored: int | None = None,
) -> None:
    works = target.works() if stored is None else [w for w in target.works() if w in GROWTH_WORKS]
    for work in works:
        cell = Cell(target.name, work, stored)
        run.cells.append(cell)
        try:
            _measure(run, target, base, work, cell, prepared, keys)
        except (RuntimeError, OSError, KeyError, ValueError) as error:
            cell.runs = []
            cell.unavailable = f"failed: {str(error)[:200]}"
        app.measure_rss()
        _report_cell(run, cell)


def _measure(
    run: Run,
    target: Target,
    base: str,
    work: str,
    cell: Cell,
    prepared: Prepared,
    keys: dict[str, Any],
) -> None:
    s = run.settings
    n = s.sessions_per_user
    if work == "revoke-all":
        for rep in range(s.revoke_reps):
            user = prepared.bulk_user(rep)
            if prepared.seed_through_app and not (rep == 0 and "list" in target.works()):
                _post(f"{base}/seed?user={user}&n={n}")
            started = time.perf_counter()
            answer = _post(f"{base}/revoke-all?user={user}")
            elapsed = (time.perf_counter() - started) * 1000
            if int(answer.get("revoked", -1)) != n:
                raise RuntimeError(f"revoke-all revoked {answer.get('revoked')} of {n}")
            cell.runs.append({"ms": elapsed, "revoked": n})
        return
    headers: dict[str, str] = {}
    script = None
    script_env: dict[str, str] = {}
    path = "/" + work.removesuffix("-repeat")
    if work == "bare":
        headers["Authorization"] = f"Bearer {_bare_token(keys)}"
    elif work.startswith("protected") and work.endswith("-repeat"):
        headers["Authorization"] = f"Bearer {prepared.first_access_token()}"
    elif work.startswith("protected"):
        script = "tokens.lua"
        script_env["BENCH_TOKENS"] = str(prepared.access_file)
        headers["Authorization"] = f"Bearer {prepared.first_access_token()}"  # the probe
    elif work == "login":
        path, script = "/login", "login.lua"
        script_env["BENCH_USERS"] = "1000"
    elif work == "list":
        user = prepared.bulk_user(0)
        path = f"/sessions?user={user}"
        if prepared.seed_through_app:
            _post(f"{base}/seed?user={user}&n={n}")
        listed = _get(f"{base}{path}")
        if len(listed["sessions"]) != n:
            raise RuntimeError(f"listed {len(listed['sessions'])} sessions of {n}")
    elif work == "refresh":
        assert target.refresh is not None
        path, script = target.refresh[0], "refresh.lua"
        script_env = {"BENCH_REFRESH_PATH": path, "BENCH_REFRESH_MODE": target.refresh[1]}
    if work not in ("login", "refresh", "list"):
        _check_probe(f"{base}{path}", headers)
        if script:
            headers = {}
    seconds = [s.warmup] if s.warmup else []
    seconds += [s.seconds] * s.runs
    refresh = _refresh_batches(run, prepared, len(seconds)) if work == "refresh" else []
    for index in range(len(seconds)):
        duration = seconds[index]
        if work == "refresh":
            script_env["BENCH_TOKENS"] = refresh[index]
        result = run_wrk(
            f"{base}{path}",
            seconds=duration,
            connections=s.connections,
            threads=s.threads,
            headers=headers,
            script=script,
            script_env=script_env,
        )
        if s.warmup and index == 0:
            if result.requests < 10 * s.connections:
                # Too slow for the run to hold enough answers (with every connection
                # waiting, the first answers come after seconds): measured runs 3x longer.
                seconds = [duration] + [d * 3 for d in seconds[1:]]
            continue
        cell.runs.append({**_result_row(result), "seconds": duration})
        if result.failures:
            raise RuntimeError(f"{result.failures} failed requests of {result.requests}")


def _refresh_batches(run: Run, prepared: Prepared, count: int) -> list[str]:
    """Splits the slot's refresh tokens into one file per wrk run: none is sent twice."""
    tokens = prepared.refresh_file().read_text().split()
    size = len(tokens) // count
    if size < run.settings.connections:
        raise RuntimeError(f"only {len(tokens)} refresh tokens for {count} runs")
    files = []
    for index in range(count):
        path = run.workdir / f"refresh-{prepared.slot}-{index}.txt"
        path.write_text("\n".join(tokens[index * size : (index + 1) * size]) + "\n")
        files.append(str(path))
    return files


def _result_row(result: WrkResult) -> dict[str, Any]:
    return {
        "rps": result.requests_per_second,
        "p50_ms": result.p50_ms,
        "p99_ms": result.p99_ms,
        "requests": result.requests,
    }


def _report_cell(run: Run, cell: Cell) -> None:
    where = f" @{cell.stored:,} stored" if cell.stored is not None else ""
    if cell.unavailable:
        run.say(f"  {cell.work}{where}: {cell.unavailable}")
    elif cell.values("ms"):
        run.say(f"  {cell.work}{where}: {cell.median('ms'):.1f} ms")
    else:
        rps, p99 = cell.median("rps") or 0, cell.median("p99_ms") or 0
        run.say(f"  {cell.work}{where}: {rps:,.0f} req/s, p99 {p99:.1f} ms")


# -- HTTP helpers ------------------------------------------------------------------


def _request(url: str, method: str, headers: dict[str, str] | None = None) -> Any:
    # Only ever http://127.0.0.1:<port> URLs built by this module.
    request = urllib.request.Request(url, method=method, headers=headers or {}, data=b"")  # noqa: S310
    if method == "GET":
        request.data = None
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310
            return answer.headers, answer.read()
    except urllib.error.HTTPError as error:
        body = error.read()[:200].decode(errors="replace")
        raise RuntimeError(f"{method} {urlsplit(url).path} answered {error.code}: {body}") from None


def _post(url: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(_request(url, "POST")[1])
    return result


def _get(url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(_request(url, "GET", headers)[1])
    return result


def _check_probe(url: str, headers: dict[str, str]) -> None:
    body = _get(url, headers)
    if body.get("ok") is False:
        raise RuntimeError(f"{urlsplit(url).path} rejected the probe request")


# -- keys ------------------------------------------------------------------------


def _make_keys(folder: Path) -> dict[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (folder / "private.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    (folder / "public.pem").write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return {"private": key}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _bare_token(keys: dict[str, Any]) -> str:
    """An RS256 token shaped like tessera's (same claims, similar size)."""
    header = _b64(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "bench"}).encode())
    now = int(time.time())
    claims = {
        "sub": "u1",
        "exp": now + 3600,
        "iat": now,
        "tId": "public",
        "rsub": "u1",
        "sessionHandle": "6a7a7133-415d-4917-93c0-106297bfc17c",
        "refreshTokenHash1": "ce630f68f85062862f0521cccd30577d178a3d3f9b19c61e2c6921682306a326",
        "parentRefreshTokenHash1": None,
        "antiCsrfToken": None,
    }
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    signature = keys["private"].sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{payload}.{_b64(signature)}"
