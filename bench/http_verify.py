"""Requests per second of a protected FastAPI endpoint, measured with wrk on loopback.

    .venv/bin/python -m bench.http_verify                 # 8 s per endpoint, 3 rounds
    .venv/bin/python -m bench.http_verify --duration 3 --rounds 1

One uvicorn process (one worker) serves four endpoints, all answering ``{"ok": true}``:

* ``/plain/nothing``: a FastAPI app with no session layer, doing nothing;
* ``/plain/bare``: the same app, verifying the bearer token with ``cryptography`` alone
  (split, RSA PKCS#1 v1.5/SHA-256 check, JSON decode, expiry check; key preloaded);
* ``/tessera/nothing``: an app behind ``TesseraMiddleware``, doing nothing;
* ``/tessera/verified``: that app, with ``Depends(verify_session())``.

wrk (Debian's ``wrk``) sends RS256 access tokens in header mode, rotating through
``--tokens`` distinct sessions (default 5000, more than the engine's 4096-entry cache of
verified tokens, so every request pays a signature check); one more row repeats a single
token to show what the cache saves. Rounds alternate the order so machine noise spreads
over all rows; the table gives the median requests/s. The target: ``verify_session``
within 15% of ``plain bare verify``.
"""

import argparse
import base64
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

ENDPOINTS = ["/plain/nothing", "/plain/bare", "/tessera/nothing", "/tessera/verified"]
#: (row label, path, rotate tokens?)
ROWS = [
    ("plain nothing", "/plain/nothing", False),
    ("plain bare verify", "/plain/bare", True),
    ("tessera nothing", "/tessera/nothing", False),
    ("verify_session", "/tessera/verified", True),
    ("verify_session, 1 token", "/tessera/verified", False),
]
_LUA = """
local tokens = {}
for line in io.lines("%s") do tokens[#tokens + 1] = line end
local i = 0
request = function()
  i = i %% #tokens + 1
  return wrk.format(nil, nil, {["Authorization"] = "Bearer " .. tokens[i]})
end
"""


# -- the server side (imported by uvicorn in the child process) ---------------------


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def build_app() -> Any:
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.hazmat.primitives.hashes import SHA256
    from fastapi import Depends, FastAPI, Header, HTTPException

    import tessera
    from tessera.framework import FrameworkConfig
    from tessera.framework.fastapi import Session, TesseraMiddleware, verify_session

    engine = tessera.Tessera(os.environ["BENCH_DATABASE"], expired_session_purge_interval=0)
    keys: dict[str, Any] = {}
    for jwk in engine.syncio.get_jwks()["keys"]:
        if jwk["kty"] == "RSA":
            numbers = rsa.RSAPublicNumbers(
                int.from_bytes(_b64(jwk["e"]), "big"), int.from_bytes(_b64(jwk["n"]), "big")
            )
            keys[jwk["kid"]] = numbers.public_key()

    plain = FastAPI()

    @plain.get("/plain/nothing")
    async def plain_nothing() -> dict[str, bool]:
        return {"ok": True}

    @plain.get("/plain/bare")
    async def plain_bare(authorization: Annotated[str, Header()] = "") -> dict[str, bool]:
        token = authorization.removeprefix("Bearer ")
        head, body, signature = token.split(".")
        kid = json.loads(_b64(head))["kid"]
        try:
            keys[kid].verify(
                _b64(signature), f"{head}.{body}".encode(), padding.PKCS1v15(), SHA256()
            )
        except Exception:
            raise HTTPException(401) from None
        if json.loads(_b64(body))["exp"] < time.time():
            raise HTTPException(401)
        return {"ok": True}

    guarded = FastAPI()

    @guarded.get("/tessera/nothing")
    async def tessera_nothing() -> dict[str, bool]:
        return {"ok": True}

    @guarded.get("/tessera/verified")
    async def tessera_verified(_: Annotated[Session, Depends(verify_session())]) -> dict[str, bool]:
        return {"ok": True}

    guarded.add_middleware(TesseraMiddleware, tessera=engine, config=FrameworkConfig())

    async def router(scope: Any, receive: Any, send: Any) -> None:
        target = plain if scope.get("path", "").startswith("/plain") else guarded
        await target(scope, receive, send)

    return router


# -- the driver ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wrk(
    url: str, token: str, duration: float, connections: int, script: str | None = None
) -> float:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s", "--timeout", "5s"]
    command += ["-s", script] if script else ["-H", f"Authorization: Bearer {token}"]
    out = subprocess.run(
        [*command, url],
        capture_output=True,
        text=True,
        timeout=duration + 30,
        check=True,
    ).stdout
    if "Non-2xx" in out:
        raise RuntimeError(f"{url} answered errors:\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match:
        raise RuntimeError(f"could not read wrk output:\n{out}")
    return float(match.group(1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=8, help="seconds per endpoint per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=5000, help="distinct sessions to rotate")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2

    import tessera

    with tempfile.TemporaryDirectory() as tmp:
        database = f"sqlite:///{tmp}/bench.db"
        with tessera.Tessera(
            database, access_token_validity=3600, expired_session_purge_interval=0
        ) as engine:
            tokens = [
                engine.syncio.create_new_session(f"user-{n}", {"role": "member"}).get_access_token()
                for n in range(args.tokens)
            ]
        token = tokens[0]
        token_file = Path(tmp) / "tokens.txt"
        token_file.write_text("\n".join(tokens) + "\n")
        script = Path(tmp) / "rotate.lua"
        script.write_text(_LUA % token_file)
        port = _free_port()
        env = {**os.environ, "BENCH_DATABASE": database}
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                "bench.http_verify:build_app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env=env,
            cwd=Path(__file__).parents[1],
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 30
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise RuntimeError("the benchmark server did not start") from None
                    time.sleep(0.2)
            for path in ENDPOINTS:  # warm up, and check every endpoint answers 200
                _wrk(base + path, token, 1, args.connections)
            results: dict[str, list[float]] = {label: [] for label, _, _ in ROWS}
            for round_number in range(args.rounds):
                order = ROWS if round_number % 2 == 0 else ROWS[::-1]
                for label, path, rotate in order:
                    rps = _wrk(
                        base + path,
                        token,
                        args.duration,
                        args.connections,
                        str(script) if rotate else None,
                    )
                    results[label].append(rps)
        finally:
            server.terminate()
            server.wait(timeout=10)

    medians = {path: statistics.median(values) for path, values in results.items()}
    setup = f"wrk -t1 -c{args.connections}, {args.duration} s x {args.rounds} rounds"
    print(setup + ", 1 uvicorn worker")
    print(f"{'row':<26}{'median req/s':>14}   rounds")
    for label, _, _ in ROWS:
        rounds = ", ".join(f"{v:.0f}" for v in results[label])
        print(f"{label:<26}{medians[label]:>14.0f}   {rounds}")
    ratio = medians["verify_session"] / medians["plain bare verify"]
    slower = (1 - ratio) * 100
    print(f"verify_session / bare verify: {ratio:.3f} ({slower:.1f}% fewer req/s; target <= 15%)")
    print(f"bare verify / nothing: {medians['plain bare verify'] / medians['plain nothing']:.3f}")
    print(
        "middleware alone (tessera nothing / plain nothing): "
        f"{medians['tessera nothing'] / medians['plain nothing']:.3f}"
    )
    out = Path(__file__).parent / "results" / "http_verify.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"rounds": results, "medians": medians, "ratio": ratio}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
