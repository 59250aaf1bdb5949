"""Load on the core service from a real HTTP load generator (``wrk``, Debian package).

    python -m bench.core_load [--backend sqlite|postgresql] [--seconds 8] [--connections 16]

Starts a core (``workers`` = CPU count) on a free loopback port over a fresh database,
creates an app, then measures three CDI calls, one after the other, each for a bounded
time: session creation, verification with a database check, and refresh (every
request spends a different refresh token, made beforehand). Prints requests per second
and p50/p99 latency per call. Needs ``apt-get install wrk``.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench._core import DEFAULT_POSTGRES_URL, call, running_core

_CREATE_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local counter = 0
request = function()
  counter = counter + 1
  local body = '{"userId":"user-' .. math.random(1, 1000000) .. '","userDataInJWT":{"role":"x"},'
    .. '"userDataInDatabase":{},"enableAntiCsrf":false,"useDynamicSigningKey":true}'
  return wrk.format(nil, nil, nil, body)
end
"""

_VERIFY_LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"accessToken":"%s","doAntiCsrfCheck":false,"enableAntiCsrf":false,'
  .. '"checkDatabase":true}'
"""

# Each thread takes its own slice of the refresh tokens and uses each token once.
_REFRESH_LUA = """
local tokens = {}
for line in io.lines("%s") do tokens[#tokens + 1] = line end
local threads = 0
setup = function(thread)
  thread:set("id", threads)
  threads = threads + 1
end
init = function(args)
  step = %d
  next_index = id + 1
end
request = function()
  if next_index > #tokens then
    wrk.thread:stop()
  end
  local token = tokens[next_index] or tokens[1]
  next_index = next_index + step
  local body = '{"refreshToken":"' .. token
    .. '","enableAntiCsrf":false,"useDynamicSigningKey":true}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
"""


def _to_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def _wrk(url: str, script: Path, seconds: int, connections: int, threads: int) -> dict[str, Any]:
    output = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _to_ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    p99 = _to_ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    return {
        "requests": total,
        "requests_per_s": rate,
        "p50_ms": p50,
        "p99_ms": p99,
        "non_2xx": int(errors.group(1)) if errors else 0,
    }


def run(
    backend: str, seconds: int, connections: int, threads: int, postgres_url: str
) -> dict[str, Any]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    with running_core(backend, postgres_url) as core:
        app, work = core.app, core.work
        create_body = {
            "userId": "u",
            "userDataInJWT": {},
            "userDataInDatabase": {},
            "enableAntiCsrf": False,
            "useDynamicSigningKey": True,
        }
        first = call(f"{app}/public/recipe/session", create_body)
        results: dict[str, Any] = {
            "backend": backend,
            "seconds": seconds,
            "connections": connections,
        }

        script = work / "create.lua"
        script.write_text(_CREATE_LUA)
        results["create"] = _wrk(
            f"{app}/public/recipe/session", script, seconds, connections, threads
        )

        script = work / "verify.lua"
        script.write_text(_VERIFY_LUA % first["accessToken"]["token"])
        results["verify_check_database"] = _wrk(
            f"{app}/recipe/session/verify", script, seconds, connections, threads
        )

        # Enough fresh refresh tokens for the time allowed at the measured create rate.
        wanted = min(60_000, int(results["create"]["requests_per_s"] * seconds * 1.5) + 500)
        with ThreadPoolExecutor(connections) as pool:
            created = list(
                pool.map(lambda _: call(f"{app}/public/recipe/session", create_body), range(wanted))
            )
        tokens = work / "refresh-tokens.txt"
        tokens.write_text("\n".join(c["refreshToken"]["token"] for c in created) + "\n")
        script = work / "refresh.lua"
        script.write_text(_REFRESH_LUA % (tokens, threads))
        results["refresh"] = _wrk(
            f"{app}/recipe/session/refresh", script, seconds, connections, threads
        )
        results["refresh"]["tokens_available"] = wanted
        return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], action="append")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    args = parser.parse_args()
    print(f"{'backend':<11} {'call':<22} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    everything = []
    for backend in args.backend or ["sqlite", "postgresql"]:
        result = run(backend, args.seconds, args.connections, args.threads, args.postgres_url)
        everything.append(result)
        for operation in ("create", "verify_check_database", "refresh"):
            r = result[operation]
            print(
                f"{backend:<11} {operation:<22} {r['requests_per_s']:>8.0f} {r['p50_ms']:>8.2f} "
                f"{r['p99_ms']:>8.2f} {r['non_2xx']:>8}"
            )
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / "core_load.json").write_text(json.dumps(everything, indent=2))


if __name__ == "__main__":
    main()
