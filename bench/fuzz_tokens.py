"""Fuzz the verify and refresh paths of a real engine on SQLite.

    .venv/bin/python -m bench.fuzz_tokens --inputs 1000000        # atheris if installed
    .venv/bin/python -m bench.fuzz_tokens --inputs 20000 --engine mutate --seed 7

Three apps (RS256, ES256, EdDSA keys) each hold a few live sessions. Every input is
decoded into one attack on one of them: a genuine access, refresh or anti-CSRF token
with bytes changed, added, dropped or spliced in from another token; random bytes;
structured hostile JSON (deep nesting, NaN and Infinity, integers past 64 bits, lone
surrogates, duplicate and mistyped claims) under a genuine signature or signed with the
app's own key; and the ECDSA and EdDSA signature twins. It is sent to
``get_session_without_request_response`` or ``refresh_session_without_request_response``.

Every outcome is counted. Failures are: an accepted token that the app did not sign
(a forgery), an accepted token whose payload differs from what was signed, a refresh
that succeeds without the genuine token, a theft report from a token that is not
genuine, and any exception other than ``UnauthorisedError``/``TryRefreshTokenError``.
The totals are printed; the exit status is 1 when any failure occurred.

With ``--engine atheris`` (``pip install 'tessera-sessions[fuzz]'``; the default when it imports)
libFuzzer chooses the bytes, guided by coverage of tessera's code. ``--engine mutate``
draws them from a seeded ``random.Random`` instead: no dependency, reproducible.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from tessera import Tessera

T = TypeVar("T")
ALGORITHMS = ("RS256", "ES256", "EdDSA")
#: The modules whose coverage guides atheris (imported under its instrumentation).
_INSTRUMENTED = ("tessera", "tessera.engine.sessions", "tessera.storage.sqlite")
SESSIONS_PER_APP = 3
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_ED25519_ORDER = 2**252 + 27742317777372353535851937790883648493
_B64URL = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_INTERESTING = _B64URL + b'.=+/ \t\x00"[]{}:,\\%\xc3\xa9\xed\xa0\x80\xff'
_CLAIMS = ("sub", "rsub", "tId", "exp", "iat", "sessionHandle", "refreshTokenHash1",
           "parentRefreshTokenHash1", "antiCsrfToken", "stt")  # fmt: skip
_HOSTILE_VALUES = (
    "NaN", "Infinity", "-Infinity", "1e999", "-1e400", "1.5", "true", "null", "[]", "{}",
    '"9999999999"', "18446744073709551616", "-9223372036854775809", "1" * 40,
    '"\\ud800"', '"\\udfff\\ud800"', '"\\u0000"', "0", "-0", "1e2",
)  # fmt: skip


class Choices:
    """Decisions read off a byte string; zeros once it runs out."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def byte(self) -> int:
        if self.at >= len(self.data):
            return 0
        value = self.data[self.at]
        self.at += 1
        return value

    def below(self, n: int) -> int:
        if n <= 256:
            return self.byte() % n
        return (self.byte() << 16 | self.byte() << 8 | self.byte()) % n

    def pick(self, items: Sequence[T]) -> T:
        return items[self.below(len(items))]

    def rest(self, limit: int = 4096) -> bytes:
        chunk = self.data[self.at : self.at + limit]
        self.at += len(chunk)
        return chunk


@dataclass
class Live:
    """One genuine session: its tokens, as the app issued them."""

    app: Tessera
    algorithm: str
    access: str
    refresh: str
    anti_csrf: str


@dataclass
class Tally:
    inputs: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def fail(self, kind: str, detail: str) -> None:
        self.failures[kind] += 1
        if len(self.examples) < 20:
            self.examples.append(f"{kind}: {detail[:300]}")

    @property
    def failed(self) -> int:
        return sum(self.failures.values())


class Target:
    """The apps under attack and the bookkeeping of what they signed."""

    def __init__(self, directory: Path) -> None:
        from tessera import Tessera

        self.apps: list[Tessera] = []
        self.live: list[Live] = []
        #: Every access token an app signed, with the payload it carries.
        self.signed: dict[str, dict[str, Any]] = {}
        for algorithm in ALGORITHMS:
            app = Tessera(
                f"sqlite:///{directory}/{algorithm}.db",
                access_token_signing_algorithm=algorithm,
                anti_csrf="VIA_TOKEN",
                expired_session_purge_interval=0,
                access_token_validity=24 * 3600,
            )
            self.apps.append(app)
            for n in range(SESSIONS_PER_APP):
                payload = {"perms": ["read"], "n": n, "big": 2**64 + n, "t": "é😀"}
                session = app.syncio.create_new_session(f"user-{n}", payload, {"d": n})
                tokens = session.get_all_session_tokens_dangerously()
                assert tokens["refreshToken"] is not None
                assert tokens["antiCsrfToken"] is not None
                live = Live(
                    app, algorithm, tokens["accessToken"], tokens["refreshToken"],
                    tokens["antiCsrfToken"],
                )  # fmt: skip
                self.live.append(live)
                self.signed[live.access] = session.get_access_token_payload()
        #: Each genuine refresh token and the anti-CSRF token that goes with it.
        self.refresh_tokens = {live.refresh: live.anti_csrf for live in self.live}

    def close(self) -> None:
        for app in self.apps:
            app.close()


# -- making attacks ---------------------------------------------------------------------------


def _mutate(c: Choices, text: str) -> str:
    raw = bytearray(text.encode("utf-8", "surrogatepass"))
    for _ in range(1 + c.below(4)):
        at = c.below(len(raw) + 1)
        kind = c.below(7)
        if kind == 0 and at < len(raw):
            raw[at] = c.pick(_INTERESTING)
        elif kind == 1:
            raw.insert(at, c.pick(_INTERESTING))
        elif kind == 2 and at < len(raw):
            del raw[at]
        elif kind == 3:
            del raw[at:]
        elif kind == 4 and at < len(raw):
            raw[at] ^= 1 << c.below(8)
        elif kind == 5:
            raw[at:at] = raw[at : at + 1 + c.below(16)]
        else:
            raw[at:at] = c.rest(1 + c.below(8))
    return _text(bytes(raw), c)


def _text(raw: bytes, c: Choices) -> str:
    """Bytes as a server might hand them over: UTF-8 (lone surrogates kept) or Latin-1."""
    if c.below(4) == 0:
        return raw.decode("latin-1")
    return raw.decode("utf-8", "surrogateescape")


def _hostile_json(c: Choices, genuine: dict[str, Any] | None) -> bytes:
    kind = c.below(8)
    if kind == 0:
        depth = c.pick((63, 64, 65, 100, 1025, 1500, 5000))
        opener, closer = c.pick(((b"[", b"]"), (b'{"a":', b"}")))
        return b'{"x":' + opener * depth + b"1" + closer * depth + b"}"
    if kind in (1, 2) and genuine is not None:
        # The genuine claims with one replaced by a hostile value (or duplicated).
        text = json.dumps(genuine, separators=(",", ":")).encode()
        claim = c.pick(_CLAIMS).encode()
        value = c.pick(_HOSTILE_VALUES).encode()
        return text[:-1] + b',"' + claim + b'":' + value + b"}"
    if kind == 3:
        return b'{"v":' + c.pick(_HOSTILE_VALUES).encode() + b"}"
    if kind == 4:
        return c.pick((b"[]", b'"x"', b"1", b"null", b"", b"{", b'{"a":1}x', b"\xef\xbb\xbf{}"))
    if kind == 5:
        return b'{"s":"' + b"A" * (1 + c.below(12000)) + b'"}'
    if kind == 6:
        return b'{"' + c.pick((b"\\ud800", b"\xed\xa0\x80", b"\\u0000", b"\xff")) + b'":1}'
    return c.rest(512)


def _sign_raw(app: Tessera, header: dict[str, Any], payload: bytes) -> str:
    """A token over exactly ``payload``, signed with the app's own current key."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    from tessera.engine.jws import b64url_encode

    key = app.engine.keys.signing_key(app.now(), dynamic=True)
    header = {**header, "alg": key.algorithm, "kid": key.kid}
    head = b64url_encode(json.dumps(header, separators=(",", ":")).encode())
    signing_input = f"{head}.{b64url_encode(payload)}".encode()
    private = key.private_key
    if isinstance(private, rsa.RSAPrivateKey):
        signature = private.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    elif isinstance(private, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(private.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        s = min(s, _P256_ORDER - s)
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    else:
        assert isinstance(private, ed25519.Ed25519PrivateKey)
        signature = private.sign(signing_input)
    return f"{signing_input.decode()}.{b64url_encode(signature)}"


def _twin(live: Live) -> str:
    """The other spelling of a genuine signature: (r, n - s) for ECDSA, S + L for EdDSA."""
    from tessera.engine.jws import b64url_decode, b64url_encode

    signing_input, _, signature = live.access.rpartition(".")
    raw = b64url_decode(signature)
    if live.algorithm == "ES256":
        s = int.from_bytes(raw[32:], "big")
        raw = raw[:32] + (_P256_ORDER - s).to_bytes(32, "big")
    elif live.algorithm == "EdDSA":
        s = int.from_bytes(raw[32:], "little") + _ED25519_ORDER
        raw = raw[:32] + s.to_bytes(32, "little")
    else:
        raw = raw + b"\x00"
    return f"{signing_input}.{b64url_encode(raw)}"


# -- running one input -------------------------------------------------------------------------


def run_one(target: Target, data: bytes, tally: Tally) -> None:
    from tessera import TokenTheftError, TryRefreshTokenError, UnauthorisedError

    c = Choices(data)
    live = c.pick(target.live)
    other = c.pick(target.live)
    mode = c.below(9)
    anti_csrf = live.anti_csrf if c.below(4) else _mutate(c, live.anti_csrf)
    #: A token this run signed with the app's key, and the payload it signed.
    self_signed: tuple[str, Any] | None = None
    if mode <= 4:
        kind = "verify"
        if mode == 0:
            token = _mutate(c, live.access)
        elif mode == 1:
            token = _text(c.rest(), c)
        elif mode == 2:
            head, payload, signature = live.access.split(".")
            from tessera.engine.jws import b64url_encode

            segment = b64url_encode(_hostile_json(c, target.signed.get(live.access)))
            token = (
                f"{segment}.{payload}.{signature}"
                if c.below(3) == 0
                else f"{head}.{segment}.{signature}"
            )
        elif mode == 3:
            raw = _hostile_json(c, target.signed.get(live.access))
            token = _sign_raw(live.app, {"typ": "JWT", "version": "5"}, raw)
            try:
                self_signed = (token, json.loads(raw))
            except (ValueError, RecursionError):
                self_signed = (token, None)
        else:
            parts, donor = live.access.split("."), other.access.split(".")
            which = c.below(3)
            parts[which] = donor[which]
            token = c.pick((".".join(parts), _twin(live), live.access))
    else:
        kind = "refresh"
        if mode in (5, 6):
            token = _mutate(c, live.refresh)
        elif mode == 7:
            token = _text(c.rest(), c)
        else:
            secret = live.refresh.rpartition(".")[2]
            donor_handle = other.refresh.rpartition(".")[0]
            token = c.pick(
                (f"{donor_handle}.{secret}", live.refresh + "A", other.access, live.refresh)
            )
        if target.refresh_tokens.get(token) == anti_csrf:
            # Genuine token and anti-CSRF token: a refresh would rightly succeed and
            # rotate the session away from under the next inputs.
            tally.outcomes["skipped: genuine refresh token and anti-CSRF token"] += 1
            return
    tally.inputs += 1
    try:
        if kind == "verify":
            check_database = c.below(8) == 0
            session = live.app.syncio.get_session_without_request_response(
                token, anti_csrf, check_database=check_database
            )
            assert session is not None
            accepted, claims = session.get_access_token(), session.get_access_token_payload()
            if self_signed is not None and accepted == self_signed[0] == token:
                signed_payload = self_signed[1]
            elif accepted == token and token in target.signed:
                signed_payload = target.signed[token]
            else:
                tally.fail("forgery accepted", repr(token))
                return
            if claims != signed_payload:
                tally.fail("payload other than the one signed", repr((token, claims)))
            elif anti_csrf != claims.get("antiCsrfToken"):
                tally.fail("wrong anti-CSRF token accepted", repr((token, anti_csrf)))
            tally.outcomes["verify: accepted"] += 1
        else:
            live.app.syncio.refresh_session_without_request_response(token, anti_csrf)
            tally.fail("refresh without the genuine token", repr(token))
    except TokenTheftError:
        tally.fail("theft reported for a token that is not genuine", repr(token))
    except (UnauthorisedError, TryRefreshTokenError) as error:
        tally.outcomes[f"{kind}: {type(error).__name__}"] += 1
    except Exception as error:  # an untyped exception is exactly what we are looking for
        tally.fail(f"untyped {type(error).__name__}", f"{error!r} for {token!r}")


# -- drivers ---------------------------------------------------------------------------------


def report(tally: Tally, elapsed: float, engine: str) -> str:
    lines = [
        f"engine: {engine}",
        f"inputs: {tally.inputs} in {elapsed:.1f} s ({tally.inputs / max(elapsed, 1e-9):.0f}/s)",
    ]
    lines += [f"  {name}: {count}" for name, count in sorted(tally.outcomes.items())]
    forgeries = sum(n for k, n in tally.failures.items() if not k.startswith("untyped"))
    untyped = sum(n for k, n in tally.failures.items() if k.startswith("untyped"))
    lines.append(f"accepted forgeries (and wrong acceptances): {forgeries}")
    lines.append(f"untyped exceptions: {untyped}")
    lines += [f"  {name}: {count}" for name, count in sorted(tally.failures.items())]
    lines += [f"  e.g. {example}" for example in tally.examples]
    return "\n".join(lines)


def run_mutate(target: Target, inputs: int, seed: int, tally: Tally) -> None:
    rng = random.Random(seed)
    while tally.inputs < inputs:
        run_one(target, rng.randbytes(rng.choice((8, 16, 32, 64, 256, 1024))), tally)


def run_atheris(
    inputs: int, directory: Path, seed: int, finish: Callable[[Tally, float], int]
) -> None:
    import atheris

    with atheris.instrument_imports(include=["tessera"]):
        for module in _INSTRUMENTED:
            importlib.import_module(module)
    target = Target(directory)
    tally = Tally()
    started = time.perf_counter()

    def one_input(data: bytes) -> None:
        run_one(target, data, tally)
        if tally.inputs >= inputs:
            status = finish(tally, time.perf_counter() - started)
            target.close()
            sys.stdout.flush()
            os._exit(status)

    # libFuzzer stops only when told; we stop ourselves at the count and report.
    args = [sys.argv[0], f"-seed={seed}", "-max_len=4096", "-print_final_stats=0"]
    args.append(f"-runs={inputs * 4}")
    atheris.Setup(args, one_input)
    atheris.Fuzz()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--engine", choices=("atheris", "mutate"), default=None)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    engine = args.engine
    if engine is None:
        try:
            import atheris  # noqa: F401

            engine = "atheris"
        except ImportError:
            engine = "mutate"

    def finish(tally: Tally, elapsed: float) -> int:
        print(report(tally, elapsed, engine), flush=True)
        return 1 if tally.failed else 0

    with tempfile.TemporaryDirectory(prefix="tessera-fuzz-") as directory:
        if engine == "atheris":
            run_atheris(args.inputs, Path(directory), args.seed, finish)
            return 2  # not reached: the driver exits with the report
        target = Target(Path(directory))
        tally = Tally()
        started = time.perf_counter()
        try:
            run_mutate(target, args.inputs, args.seed, tally)
        finally:
            target.close()
        return finish(tally, time.perf_counter() - started)


if __name__ == "__main__":
    sys.exit(main())
