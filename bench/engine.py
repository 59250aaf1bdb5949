"""What each session operation costs, per backend, through tessera's public sync API.

    .venv/bin/python -m bench.engine                     # full run, about a minute
    .venv/bin/python -m bench.engine --quick --backends sqlite

For every backend (SQLite in a temporary directory, PostgreSQL and MySQL/MariaDB on
loopback) and every signing algorithm it times ``create_new_session``, a local verify,
a verify with ``check_database=True`` and a refresh, and once per backend
``revoke_all_sessions_for_user`` for a user with several sessions. Beside them it times
the bare ``cryptography`` signature operations on a ~400-byte message: the floor that
tessera's own Python sits on.

The run is made of rounds; each round times one batch of every operation, so every
operation is sampled across the whole run and the ratios compare batches measured
seconds apart. The table shows the median cost per operation over the rounds and the
spread (fastest and slowest round). The garbage collector is paused inside each timed
batch, as ``timeit`` does. A backend that cannot be reached is reported as skipped.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cryptography
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from tessera import StorageError, Tessera
from tessera.storage import SqlStore, open_store

__all__ = ["Measurement", "Report", "Settings", "format_report", "main", "run"]

ALGORITHMS = ("RS256", "ES256", "EdDSA")
BACKENDS = ("sqlite", "postgresql", "mysql")
SERVER_URLS = {
    "postgresql": os.environ.get(
        "TESSERA_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
    ),
    "mysql": os.environ.get("TESSERA_BENCH_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
}
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "engine.json"
MESSAGE_BYTES = 400

#: (operation, algorithm or None): the rows of the table, in order.
BARE_ROWS = [
    ("bare verify", "RS256"),
    ("bare verify", "ES256"),
    ("bare verify", "EdDSA"),
    ("bare sign", "RS256"),
    ("bare sign", "ES256"),
    ("bare sign", "EdDSA"),
]
ENGINE_OPERATIONS = ("create", "verify local", "verify db", "refresh")


@dataclass(frozen=True)
class Settings:
    """How much work each round does; ``quick()`` is for the smoke test."""

    backends: tuple[str, ...] = BACKENDS
    repeats: int = 5
    #: Operations per timed batch, by how expensive the operation is.
    cheap_ops: int = 2000  # local and bare verifies, cheap signs
    db_ops: int = 500  # verify with check_database
    rsa_sign_ops: int = 150  # anything that makes an RSA signature
    ec_sign_ops: int = 400  # create and refresh with ES256/EdDSA
    revoke_users: int = 30  # users revoked per batch
    sessions_per_user: int = 10
    token_pool: int = 50  # distinct sessions whose tokens the verifies cycle through

    @classmethod
    def quick(cls, backends: Sequence[str] = ("sqlite",)) -> Settings:
        return cls(
            backends=tuple(backends),
            repeats=2,
            cheap_ops=10,
            db_ops=5,
            rsa_sign_ops=3,
            ec_sign_ops=3,
            revoke_users=2,
            sessions_per_user=3,
            token_pool=3,
        )


@dataclass
class Measurement:
    backend: str  # "bare" for the cryptography primitives
    operation: str
    algorithm: str | None
    ops_per_repeat: int
    #: Microseconds per operation, one value per round.
    samples: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def label(self) -> str:
        return f"{self.operation} {self.algorithm}" if self.algorithm else self.operation

    def as_json(self) -> dict[str, Any]:
        return {
            "backend": self.backend,
            "operation": self.operation,
            "algorithm": self.algorithm,
            "ops_per_repeat": self.ops_per_repeat,
            "per_op_us": {
                "median": round(self.median, 2),
                "min": round(min(self.samples), 2),
                "max": round(max(self.samples), 2),
                "samples": [round(s, 2) for s in self.samples],
            },
        }


@dataclass
class Report:
    settings: Settings
    machine: dict[str, Any]
    measurements: list[Measurement]
    skipped: dict[str, str]
    load: dict[str, Any]
    seconds: float

    def find(self, backend: str, operation: str, algorithm: str | None) -> Measurement | None:
        for m in self.measurements:
            if (m.backend, m.operation, m.algorithm) == (backend, operation, algorithm):
                return m
        return None

    def ratios(self) -> list[dict[str, Any]]:
        """Per-round ratios (both batches come from the same round), median and spread."""
        rows: list[dict[str, Any]] = []

        def add(
            name: str,
            backend: str,
            top: Measurement | None,
            bottom: Measurement | None,
            target: float | None = None,
        ) -> None:
            if top is None or bottom is None:
                return
            per_round = [a / b for a, b in zip(top.samples, bottom.samples, strict=True)]
            rows.append(
                {
                    "ratio": name,
                    "backend": backend,
                    "median": round(statistics.median(per_round), 3),
                    "min": round(min(per_round), 3),
                    "max": round(max(per_round), 3),
                    "target": target,
                }
            )

        live = [b for b in self.settings.backends if b not in self.skipped]
        for alg in ALGORITHMS:
            for backend in live:
                add(
                    f"verify local / bare verify, {alg}",
                    backend,
                    self.find(backend, "verify local", alg),
                    self.find("bare", "bare verify", alg),
                    1.3 if alg == "RS256" else None,
                )
        for alg in ALGORITHMS:
            for backend in live:
                add(
                    f"verify db / verify local, {alg}",
                    backend,
                    self.find(backend, "verify db", alg),
                    self.find(backend, "verify local", alg),
                    2.0 if backend == "sqlite" else None,
                )
        for operation in ("create", "refresh"):
            for alg in ALGORITHMS:
                for backend in live:
                    add(
                        f"{operation} / bare sign, {alg}",
                        backend,
                        self.find(backend, operation, alg),
                        self.find("bare", "bare sign", alg),
                    )
        return rows

    def as_json(self) -> dict[str, Any]:
        return {
            "machine": self.machine,
            "load": self.load,
            "seconds": round(self.seconds, 1),
            "settings": self.settings.__dict__ | {"backends": list(self.settings.backends)},
            "skipped": self.skipped,
            "measurements": [m.as_json() for m in self.measurements],
            "ratios": self.ratios(),
        }


# -- the operations ------------------------------------------------------------------
# Each "prepare" does the untimed setup and returns the batch to time.

Batch = Callable[[], None]


@dataclass
class Case:
    measurement: Measurement
    prepare: Callable[[], Batch]


def bare_cases(settings: Settings) -> list[Case]:
    message = secrets.token_urlsafe(MESSAGE_BYTES)[:MESSAGE_BYTES].encode()
    sha256, pkcs1 = hashes.SHA256(), padding.PKCS1v15()
    ecdsa = ec.ECDSA(sha256)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ed_key = ed25519.Ed25519PrivateKey.generate()
    rsa_pub, ec_pub, ed_pub = rsa_key.public_key(), ec_key.public_key(), ed_key.public_key()
    rsa_sig = rsa_key.sign(message, pkcs1, sha256)
    ec_sig = ec_key.sign(message, ecdsa)
    ed_sig = ed_key.sign(message)

    def repeat(n: int, op: Callable[[], object]) -> Callable[[], Batch]:
        def batch() -> None:
            for _ in range(n):
                op()

        return lambda: batch

    cheap, rsa_n = settings.cheap_ops, settings.rsa_sign_ops
    ops: list[tuple[str, str, int, Callable[[], object]]] = [
        ("bare verify", "RS256", cheap, lambda: rsa_pub.verify(rsa_sig, message, pkcs1, sha256)),
        ("bare verify", "ES256", cheap, lambda: ec_pub.verify(ec_sig, message, ecdsa)),
        ("bare verify", "EdDSA", cheap, lambda: ed_pub.verify(ed_sig, message)),
        ("bare sign", "RS256", rsa_n, lambda: rsa_key.sign(message, pkcs1, sha256)),
        ("bare sign", "ES256", cheap, lambda: ec_key.sign(message, ecdsa)),
        ("bare sign", "EdDSA", cheap, lambda: ed_key.sign(message)),
    ]
    return [Case(Measurement("bare", name, alg, n), repeat(n, op)) for name, alg, n, op in ops]


def engine_cases(backend: str, engines: dict[str, Tessera], settings: Settings) -> list[Case]:
    cases: list[Case] = []
    run_id = uuid.uuid4().hex[:8]
    for alg, engine in engines.items():
        cases.extend(_algorithm_cases(backend, alg, engine, settings, run_id))
    cases.append(_revoke_case(backend, engines["EdDSA"], settings, run_id))
    return cases


def _algorithm_cases(
    backend: str, alg: str, engine: Tessera, settings: Settings, run_id: str
) -> list[Case]:
    api = engine.syncio
    signs = settings.rsa_sign_ops if alg == "RS256" else settings.ec_sign_ops
    pool = [
        api.create_new_session(
            f"{run_id}-{alg}-pool-{i}", {"role": "member"}
        ).get_all_session_tokens_dangerously()
        for i in range(settings.token_pool)
    ]
    access = [t["accessToken"] for t in pool]
    refresh: list[str] = [str(t["refreshToken"]) for t in pool]
    counter = iter(range(10**9))

    def create() -> Batch:
        users = [f"{run_id}-{alg}-c{next(counter)}" for _ in range(signs)]
        payload = {"role": "member"}

        def batch() -> None:
            for user in users:
                api.create_new_session(user, payload)

        return batch

    def verify(n: int, check_database: bool) -> Callable[[], Batch]:
        tokens = [access[i % len(access)] for i in range(n)]

        def prepare() -> Batch:
            def batch() -> None:
                get = api.get_session_without_request_response
                for token in tokens:
                    get(token, check_database=check_database)

            return batch

        return prepare

    def refresh_batch() -> Batch:
        # Each op refreshes one pooled session and keeps its successor for next time,
        # as a client would: so it also reads the new tokens (front token included).
        def batch() -> None:
            do_refresh = api.refresh_session_without_request_response
            size = len(refresh)
            for i in range(signs):
                slot = i % size
                tokens = do_refresh(refresh[slot]).get_all_session_tokens_dangerously()
                refresh[slot] = str(tokens["refreshToken"])

        return batch

    return [
        Case(Measurement(backend, "create", alg, signs), create),
        Case(
            Measurement(backend, "verify local", alg, settings.cheap_ops),
            verify(settings.cheap_ops, False),
        ),
        Case(
            Measurement(backend, "verify db", alg, settings.db_ops), verify(settings.db_ops, True)
        ),
        Case(Measurement(backend, "refresh", alg, signs), refresh_batch),
    ]


def _revoke_case(backend: str, engine: Tessera, settings: Settings, run_id: str) -> Case:
    api = engine.syncio
    counter = iter(range(10**9))
    per_user = settings.sessions_per_user

    def prepare() -> Batch:
        users = [f"{run_id}-revoke-{next(counter)}" for _ in range(settings.revoke_users)]
        for user in users:
            for _ in range(per_user):
                api.create_new_session(user)

        def batch() -> None:
            for user in users:
                if len(api.revoke_all_sessions_for_user(user)) != per_user:
                    raise AssertionError("revoke_all_sessions_for_user missed sessions")

        return batch

    name = f"revoke all ({per_user} sessions)"
    return Case(Measurement(backend, name, None, settings.revoke_users), prepare)


def time_batch(batch: Batch, ops: int) -> float:
    """Microseconds per operation for one batch, with the GC paused."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter_ns()
        batch()
        elapsed = time.perf_counter_ns() - start
    finally:
        gc.enable()
    return elapsed / ops / 1000


# -- the run -----------------------------------------------------------------------


def database_url(backend: str, directory: str) -> str:
    return f"sqlite:///{directory}/bench.db" if backend == "sqlite" else SERVER_URLS[backend]


class Backend:
    """The run's tables on one database, and one Tessera per algorithm over them
    (like processes of one app, each with its own connections)."""

    def __init__(self, name: str, url: str, prefix: str) -> None:
        self.name = name
        self.stores: list[SqlStore] = []
        self.engines: dict[str, Tessera] = {}
        try:
            for alg in ALGORITHMS:
                store = open_store(url, table_name_prefix=prefix, pool_size=2)
                self.stores.append(store)
                self.engines[alg] = Tessera(
                    store=store,
                    access_token_signing_algorithm=alg,
                    expired_session_purge_interval=0,
                )
        except BaseException:
            self.close()
            raise

    def server_version(self) -> str:
        dialect = self.stores[0].dialect
        if dialect.name == "sqlite":
            return f"SQLite {sqlite3.sqlite_version}"
        connection = dialect.connect()
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT version()")
            return str(cursor.fetchone()[0])
        finally:
            connection.close()

    def close(self) -> None:
        """Drop the run's tables and close everything."""
        try:
            if self.stores:
                self.stores[0].drop_tables()
        finally:
            for engine in self.engines.values():
                engine.close()
            for store in self.stores[len(self.engines) :]:
                store.close()  # opened, but its Tessera was never built


def machine_info() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from cryptography.hazmat.backends.openssl.backend import backend as openssl

    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "cryptography": cryptography.__version__,
        "openssl": openssl.openssl_version_text(),
        "platform": platform.platform(),
    }


def _busy_jiffies() -> int | None:
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return user + nice + system + irq + softirq + steal


class LoadMeter:
    """Load average and how busy the whole machine was, against this process alone.

    "others" includes the database servers doing this benchmark's queries."""

    def __init__(self) -> None:
        self.load_before = os.getloadavg()
        self.busy_before = _busy_jiffies()
        self.own_before = sum(os.times()[:2])
        self.wall_before = time.monotonic()

    def result(self) -> dict[str, Any]:
        wall = time.monotonic() - self.wall_before
        own = (sum(os.times()[:2]) - self.own_before) / wall
        busy_after = _busy_jiffies()
        result: dict[str, Any] = {
            "loadavg_before": [round(v, 2) for v in self.load_before],
            "loadavg_after": [round(v, 2) for v in os.getloadavg()],
            "this_process_cores": round(own, 2),
        }
        if self.busy_before is not None and busy_after is not None:
            hz = os.sysconf("SC_CLK_TCK")
            total = (busy_after - self.busy_before) / hz / wall
            result["all_processes_cores"] = round(total, 2)
            result["other_processes_cores"] = round(max(0.0, total - own), 2)
        return result


def run(settings: Settings, *, progress: Callable[[str], None] | None = None) -> Report:
    say = progress or (lambda _text: None)
    started = time.monotonic()
    meter = LoadMeter()
    machine = machine_info()
    prefix = f"bench_{uuid.uuid4().hex[:12]}_"
    skipped: dict[str, str] = {}
    opened: list[Backend] = []
    cases = bare_cases(settings)
    with tempfile.TemporaryDirectory(prefix="tessera-bench-") as directory:
        try:
            for backend in settings.backends:
                if backend not in BACKENDS:
                    raise ValueError(
                        f"unknown backend {backend!r}: choose from {', '.join(BACKENDS)}"
                    )
                try:
                    live = Backend(backend, database_url(backend, directory), prefix)
                except (StorageError, ImportError, OSError) as exc:
                    skipped[backend] = " ".join(f"{type(exc).__name__}: {exc}".split())
                    say(f"{backend}: skipped ({skipped[backend]})")
                    continue
                opened.append(live)
                machine[f"{backend}_server"] = live.server_version()
                say(f"{backend}: preparing")
                cases.extend(engine_cases(backend, live.engines, settings))
            for round_number in range(settings.repeats):
                say(f"round {round_number + 1}/{settings.repeats}")
                for case in cases:
                    batch = case.prepare()
                    m = case.measurement
                    m.samples.append(time_batch(batch, m.ops_per_repeat))
        finally:
            for live in opened:
                live.close()
    return Report(
        settings=settings,
        machine=machine,
        measurements=[c.measurement for c in cases],
        skipped=skipped,
        load=meter.result(),
        seconds=time.monotonic() - started,
    )


# -- the report ----------------------------------------------------------------------


def _cell(m: Measurement | None) -> str:
    if m is None:
        return "-"
    return f"{m.median:,.1f} ({min(m.samples):,.1f}-{max(m.samples):,.1f})"


def row_labels(settings: Settings) -> list[tuple[str, str | None]]:
    rows: list[tuple[str, str | None]] = [
        (op, alg) for op in ENGINE_OPERATIONS for alg in ALGORITHMS
    ]
    rows.append((f"revoke all ({settings.sessions_per_user} sessions)", None))
    return rows


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("-+-".join("-" * w for w in widths))
    for r in rows:
        lines.append(
            " | ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
    return lines


def format_report(report: Report) -> str:
    s, mach, load = report.settings, report.machine, report.load
    lines = [
        "tessera engine benchmark: microseconds per operation, median (fastest-slowest round)",
        f"machine: {mach['cpu']}, {mach['cores']} cores ({mach['cores_usable']} usable); "
        f"{mach['python']}; cryptography {mach['cryptography']} ({mach['openssl']})",
    ]
    lines += [f"{b}: {mach[f'{b}_server']}" for b in s.backends if f"{b}_server" in mach]
    lines += [
        f"load average before {load['loadavg_before']}, after {load['loadavg_after']}; "
        f"CPU busy during the run: this process {load['this_process_cores']} cores, "
        f"others (database servers included) {load.get('other_processes_cores', '?')} cores",
        f"{s.repeats} rounds; ops per batch: verifies {s.cheap_ops}, db verifies {s.db_ops}, "
        f"RSA signs {s.rsa_sign_ops}, EC signs {s.ec_sign_ops}, revokes {s.revoke_users}; "
        f"run took {report.seconds:.0f} s",
        "",
    ]
    backends = list(s.backends)
    header = ["operation", *[f"{b} (skipped)" if b in report.skipped else b for b in backends]]
    rows = [
        [m.label, _cell(m)] + [""] * (len(backends) - 1)
        for m in report.measurements
        if m.backend == "bare"
    ]
    for op, alg in row_labels(s):
        label = f"{op} {alg}" if alg else op
        rows.append([label, *[_cell(report.find(b, op, alg)) for b in backends]])
    lines += _table(header, rows)
    for backend, why in report.skipped.items():
        lines.append(f"skipped {backend}: {why}")
    lines += ["", "ratios, computed per round: median (min-max); targets as marked"]
    by_name: dict[str, dict[str, dict[str, Any]]] = {}
    for r in report.ratios():
        by_name.setdefault(r["ratio"], {})[r["backend"]] = r
    ratio_rows = []
    for name, cells in by_name.items():
        row = [name]
        for b in backends:
            cell = cells.get(b)
            if cell is None:
                row.append("-")
                continue
            text = f"{cell['median']:.2f} ({cell['min']:.2f}-{cell['max']:.2f})"
            if cell["target"] is not None:
                verdict = "ok" if cell["median"] <= cell["target"] else "MISSED"
                text += f" <={cell['target']} {verdict}"
            row.append(text)
        ratio_rows.append(row)
    lines += _table(["ratio", *backends], ratio_rows)
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.engine", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="a handful of ops (smoke test)")
    parser.add_argument(
        "--backends",
        default=",".join(BACKENDS),
        help="comma-separated, from sqlite,postgresql,mysql",
    )
    parser.add_argument("--repeats", type=int, help="rounds (default 5, quick 2)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write results")
    parser.add_argument("--no-json", action="store_true", help="do not write the JSON file")
    args = parser.parse_args(argv)
    backends = tuple(b.strip() for b in args.backends.split(",") if b.strip())
    settings = Settings.quick(backends) if args.quick else Settings(backends=backends)
    if args.repeats is not None:
        if args.repeats < 1:
            parser.error("--repeats must be at least 1")
        settings = Settings(**(settings.__dict__ | {"repeats": args.repeats}))

    report = run(settings, progress=lambda text: print(f"... {text}", file=sys.stderr, flush=True))
    print(format_report(report))
    if not args.no_json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report.as_json(), indent=2) + "\n")
        print(f"\nresults written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
