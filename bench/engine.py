"""What each session operation costs, per backend, through tessera's public sync API.

    .venv/bin/python -m bench.engine                     # full run, about two minutes
    .venv/bin/python -m bench.engine --backends sqlite
    .venv/bin/python -m bench.engine --quick             # a handful of ops: does it run?

For every backend (SQLite in a temporary directory, PostgreSQL and MySQL/MariaDB on
loopback) and every signing algorithm it times ``create_new_session``; a local verify and
one with ``check_database=True``, each of a token the verifying engine has not seen
("new": the whole signature check) and of one it has ("again": whatever the engine
remembers); a refresh; and once per backend ``revoke_all_sessions_for_user`` for a user
with several sessions. Beside them it times the bare ``cryptography`` operations on a
400-byte message: the floor that tessera's own Python sits on.

The run is made of rounds; each round times one batch of every operation, so every
operation is sampled across the whole run and each ratio compares batches measured
seconds apart. The table shows the median cost per operation over the rounds, the
spread (fastest and slowest round), and this thread's CPU time per operation, which
other processes disturb much less than the wall clock. The garbage collector is paused
inside each timed batch, as ``timeit`` does. An unreachable backend is shown as skipped.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import secrets
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from tessera import StorageError, Tessera
from tessera.storage import SqlStore, open_store

if not __package__:  # run as a script, "python bench/engine.py": make "bench" importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._machine import LoadMeter, machine_info
from bench._report import ALGORITHMS, Measurement, Report, format_report

__all__ = [
    "ALGORITHMS",
    "BARE_ROWS",
    "Measurement",
    "Report",
    "Settings",
    "format_report",
    "main",
    "row_labels",
    "run",
]

BACKENDS = ("sqlite", "postgresql", "mysql")
SERVER_URLS = {
    "postgresql": os.environ.get(
        "TESSERA_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
    ),
    "mysql": os.environ.get("TESSERA_BENCH_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
}
DEFAULT_JSON = Path(__file__).resolve().parent / "results" / "engine.json"
MESSAGE_BYTES = 400

#: (operation, algorithm): the rows of the bare-cryptography part of the table.
BARE_ROWS = [
    ("bare verify", "RS256"),
    ("bare verify", "ES256"),
    ("bare verify", "EdDSA"),
    ("bare sign", "RS256"),
    ("bare sign", "ES256"),
    ("bare sign", "EdDSA"),
]
ENGINE_OPERATIONS = (
    "create",
    "verify local (new)",
    "verify local (again)",
    "verify db (new)",
    "verify db (again)",
    "refresh",
)


@dataclass(frozen=True)
class Settings:
    """How much work each round does; ``quick()`` is for the smoke test."""

    repeats: int = 5
    #: Operations per timed batch, by how expensive the operation is.
    cheap_ops: int = 2000  # repeat verifies, bare verifies, cheap bare signs
    new_token_ops: int = 300  # verifies of tokens the verifying engine has not seen yet
    db_ops: int = 500  # repeat verifies with check_database
    rsa_sign_ops: int = 150  # create and refresh with RS256, bare RSA signs
    ec_sign_ops: int = 400  # create and refresh with ES256 and EdDSA
    revoke_users: int = 30  # users revoked per batch
    sessions_per_user: int = 10
    token_pool: int = 50  # sessions whose tokens the repeat verifies cycle through

    @classmethod
    def quick(cls) -> Settings:
        return cls(
            repeats=2,
            cheap_ops=10,
            new_token_ops=4,
            db_ops=5,
            rsa_sign_ops=3,
            ec_sign_ops=3,
            revoke_users=2,
            sessions_per_user=3,
            token_pool=3,
        )


def row_labels(settings: Settings) -> list[tuple[str, str | None]]:
    """The engine rows of the table, in order."""
    rows: list[tuple[str, str | None]] = [
        (op, alg) for op in ENGINE_OPERATIONS for alg in ALGORITHMS
    ]
    rows.append((revoke_label(settings), None))
    return rows


def revoke_label(settings: Settings) -> str:
    return f"revoke all ({settings.sessions_per_user} sessions)"


# -- the operations ------------------------------------------------------------------
# A case's "prepare" does the untimed setup of one round and returns the batch to time
# and what to clean up after it.

Batch = Callable[[], None]
Prepared = tuple[Batch, Callable[[], None] | None]


@dataclass
class Case:
    measurement: Measurement
    prepare: Callable[[], Prepared]


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

    def repeat(n: int, op: Callable[[], object]) -> Callable[[], Prepared]:
        def batch() -> None:
            for _ in range(n):
                op()

        return lambda: (batch, None)

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


class Backend:
    """The run's tables on one database, and one Tessera per algorithm over them
    (like processes of one app, each with its own connections)."""

    def __init__(self, name: str, url: str, prefix: str) -> None:
        self.name = name
        self.url = url
        self.prefix = prefix
        self.stores: list[SqlStore] = []
        self.engines: dict[str, Tessera] = {}
        try:
            for alg in ALGORITHMS:
                self.engines[alg] = self.new_engine(alg)
        except BaseException:
            self.close()
            raise

    def new_engine(self, algorithm: str) -> Tessera:
        """A Tessera over the run's tables; closing it closes its connections."""
        store = open_store(self.url, table_name_prefix=self.prefix, pool_size=2)
        self.stores.append(store)
        return Tessera(
            store=store, access_token_signing_algorithm=algorithm, expired_session_purge_interval=0
        )

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
            for store in self.stores:
                store.close()  # closing twice is harmless; this catches stores without a Tessera

    def cases(self, settings: Settings) -> list[Case]:
        run_id = uuid.uuid4().hex[:8]
        cases: list[Case] = []
        for alg in ALGORITHMS:
            cases.extend(self._algorithm_cases(alg, settings, run_id))
        cases.append(self._revoke_case(settings, run_id))
        return cases

    def _algorithm_cases(self, alg: str, settings: Settings, run_id: str) -> list[Case]:
        backend, engine = self.name, self.engines[alg]
        api = engine.syncio
        signs = settings.rsa_sign_ops if alg == "RS256" else settings.ec_sign_ops
        payload = {"role": "member"}

        def new_tokens(count: int, tag: str) -> list[dict[str, object]]:
            return [
                dict(
                    api.create_new_session(
                        f"{run_id}-{alg}-{tag}-{i}", payload
                    ).get_all_session_tokens_dangerously()
                )
                for i in range(count)
            ]

        pool = new_tokens(settings.token_pool, "pool")
        access = [str(t["accessToken"]) for t in pool]
        refresh = [str(t["refreshToken"]) for t in pool]
        # +1: a token to warm up each fresh engine (it loads the keys from the store).
        unseen = [str(t["accessToken"]) for t in new_tokens(settings.new_token_ops + 1, "new")]
        counter = iter(range(10**9))

        def create() -> Prepared:
            users = [f"{run_id}-{alg}-c{next(counter)}" for _ in range(signs)]

            def batch() -> None:
                for user in users:
                    api.create_new_session(user, payload)

            return batch, None

        def verify_again(n: int, check_database: bool) -> Callable[[], Prepared]:
            tokens = [access[i % len(access)] for i in range(n)]

            def prepare() -> Prepared:
                get = api.get_session_without_request_response
                for token in access:
                    get(token, check_database=check_database)  # seen before: "again"

                def batch() -> None:
                    for token in tokens:
                        get(token, check_database=check_database)

                return batch, None

            return prepare

        def verify_new(check_database: bool) -> Callable[[], Prepared]:
            # A fresh Tessera has seen none of these tokens: every verify does all the work.
            def prepare() -> Prepared:
                verifier = self.new_engine(alg)
                get = verifier.syncio.get_session_without_request_response
                get(unseen[-1], check_database=check_database)
                tokens = unseen[:-1]

                def batch() -> None:
                    for token in tokens:
                        get(token, check_database=check_database)

                return batch, verifier.close

            return prepare

        def refresh_batch() -> Prepared:
            # Each op refreshes one pooled session and keeps its successor for next time,
            # as a client would: so it also reads the new tokens (front token included).
            def batch() -> None:
                do_refresh = api.refresh_session_without_request_response
                size = len(refresh)
                for i in range(signs):
                    slot = i % size
                    tokens = do_refresh(refresh[slot]).get_all_session_tokens_dangerously()
                    refresh[slot] = str(tokens["refreshToken"])

            return batch, None

        n_new, n_cheap, n_db = settings.new_token_ops, settings.cheap_ops, settings.db_ops
        return [
            Case(Measurement(backend, "create", alg, signs), create),
            Case(Measurement(backend, "verify local (new)", alg, n_new), verify_new(False)),
            Case(
                Measurement(backend, "verify local (again)", alg, n_cheap),
                verify_again(n_cheap, False),
            ),
            Case(Measurement(backend, "verify db (new)", alg, n_new), verify_new(True)),
            Case(Measurement(backend, "verify db (again)", alg, n_db), verify_again(n_db, True)),
            Case(Measurement(backend, "refresh", alg, signs), refresh_batch),
        ]

    def _revoke_case(self, settings: Settings, run_id: str) -> Case:
        # Sessions are made with EdDSA, the cheapest to sign; revoking signs nothing.
        api = self.engines["EdDSA"].syncio
        counter = iter(range(10**9))
        per_user = settings.sessions_per_user

        def prepare() -> Prepared:
            users = [f"{run_id}-revoke-{next(counter)}" for _ in range(settings.revoke_users)]
            for user in users:
                for _ in range(per_user):
                    api.create_new_session(user)

            def batch() -> None:
                for user in users:
                    if len(api.revoke_all_sessions_for_user(user)) != per_user:
                        raise AssertionError("revoke_all_sessions_for_user missed sessions")

            return batch, None

        measurement = Measurement(self.name, revoke_label(settings), None, settings.revoke_users)
        return Case(measurement, prepare)


def time_batch(batch: Batch, ops: int) -> tuple[float, float]:
    """Microseconds per operation for one batch, wall clock and this thread's CPU,
    with the garbage collector paused (as timeit does)."""
    gc.collect()
    gc.disable()
    try:
        cpu_start = time.thread_time_ns()
        start = time.perf_counter_ns()
        batch()
        elapsed = time.perf_counter_ns() - start
        cpu = time.thread_time_ns() - cpu_start
    finally:
        gc.enable()
    return elapsed / ops / 1000, cpu / ops / 1000


# -- the run -----------------------------------------------------------------------


def database_url(backend: str, directory: str) -> str:
    return f"sqlite:///{directory}/bench.db" if backend == "sqlite" else SERVER_URLS[backend]


def run(
    settings: Settings,
    backends: Sequence[str] = BACKENDS,
    *,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Time every case, round after round; skip a backend that cannot be reached."""
    say = progress or (lambda _text: None)
    unknown = [b for b in backends if b not in BACKENDS]
    if unknown:
        raise ValueError(
            f"unknown backend(s) {', '.join(unknown)}: choose from {', '.join(BACKENDS)}"
        )
    started = time.monotonic()
    meter = LoadMeter()
    machine = machine_info()
    prefix = f"bench_{uuid.uuid4().hex[:12]}_"
    skipped: dict[str, str] = {}
    opened: list[Backend] = []
    cases = bare_cases(settings)
    with tempfile.TemporaryDirectory(prefix="tessera-bench-") as directory:
        try:
            for name in backends:
                try:
                    backend = Backend(name, database_url(name, directory), prefix)
                except (StorageError, ImportError, OSError) as exc:
                    skipped[name] = " ".join(f"{type(exc).__name__}: {exc}".split())
                    say(f"{name}: skipped ({skipped[name]})")
                    continue
                opened.append(backend)
                machine[f"{name}_server"] = backend.server_version()
                say(f"{name}: preparing")
                cases.extend(backend.cases(settings))
            for round_number in range(settings.repeats):
                say(f"round {round_number + 1}/{settings.repeats}")
                for case in cases:
                    batch, cleanup = case.prepare()
                    try:
                        wall, cpu = time_batch(batch, case.measurement.ops_per_repeat)
                    finally:
                        if cleanup is not None:
                            cleanup()
                    case.measurement.samples.append(wall)
                    case.measurement.cpu_samples.append(cpu)
        finally:
            for backend in opened:
                backend.close()
    return Report(
        backends=tuple(backends),
        settings=asdict(settings),
        machine=machine,
        measurements=[c.measurement for c in cases],
        skipped=skipped,
        load=meter.result(),
        seconds=time.monotonic() - started,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.engine", description=__doc__)
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("--quick", action="store_true", help="a handful of ops (smoke test)")
    parser.add_argument(
        "--backends", default=",".join(BACKENDS), help="comma-separated: sqlite,postgresql,mysql"
    )
    parser.add_argument("--repeats", type=int, help="rounds (default 5, quick 2)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help="where to write results")
    parser.add_argument("--no-json", action="store_true", help="do not write the JSON file")
    args = parser.parse_args(argv)
    backends = tuple(b.strip() for b in args.backends.split(",") if b.strip())
    settings = Settings.quick() if args.quick else Settings()
    if args.repeats is not None:
        if args.repeats < 1:
            parser.error("--repeats must be at least 1")
        settings = replace(settings, repeats=args.repeats)

    def progress(text: str) -> None:
        print(f"... {text}", file=sys.stderr, flush=True)

    report = run(settings, backends, progress=progress)
    print(format_report(report, row_labels(settings)))
    if not args.no_json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report.as_json(), indent=2) + "\n")
        print(f"\nresults written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
