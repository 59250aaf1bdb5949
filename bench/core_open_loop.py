"""Open-loop mixed load on the core service: latency as a client on a schedule sees it.

    python -m bench.core_open_loop [--backend sqlite|postgresql] [--rate 1000] [--seconds 10]

A closed-loop tool (``wrk``) waits for an answer before it sends the next request, so a
server that stalls for 200 ms simply receives fewer requests and the stall hides in the
average. Here every request has a start time fixed in advance (``rate`` per second,
evenly spaced), and its latency is measured from that scheduled start to the end of the
answer: time spent waiting for a free connection, or behind a stalled server, counts.

The mix (by default) is 70% verify with a database check, 20% refresh (each refresh
token used once) and 10% create, on one app of a core started for the run. An answer
counts as an error unless it is HTTP 200 with ``"status":"OK"``. The report gives
p50/p99/max per operation, and how late the generator itself was in sending (if that is
large, the machine could not keep the schedule and the figures say more about it than
about the core).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench._core import DEFAULT_POSTGRES_URL, call, running_core

__all__ = ["Outcome", "Plan", "main", "run"]

_CREATE_BODY = {
    "userId": "u",
    "userDataInJWT": {"role": "member"},
    "userDataInDatabase": {},
    "enableAntiCsrf": False,
    "useDynamicSigningKey": True,
}


@dataclass(frozen=True)
class Plan:
    rate: float  # requests per second
    seconds: float
    connections: int
    mix: dict[str, int]  # operation -> weight
    seed: int = 1

    @property
    def requests(self) -> int:
        return int(self.rate * self.seconds)


@dataclass
class Outcome:
    operation: str
    latencies_ms: list[float] = field(default_factory=list)
    errors: int = 0

    def summary(self) -> dict[str, Any]:
        values = sorted(self.latencies_ms)
        return {
            "requests": len(values) + self.errors,
            "errors": self.errors,
            "p50_ms": _percentile(values, 50),
            "p99_ms": _percentile(values, 99),
            "max_ms": values[-1] if values else None,
            "mean_ms": statistics.fmean(values) if values else None,
        }


def _percentile(values: Sequence[float], p: float) -> float | None:
    if not values:
        return None
    index = min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))
    return values[index]


def _request(host: str, path: str, body: dict[str, Any]) -> bytes:
    data = json.dumps(body, separators=(",", ":")).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    )
    return head.encode() + data


def _schedule(
    plan: Plan, host: str, app_path: str, access_tokens: list[str], refresh_tokens: list[str]
) -> list[tuple[str, bytes]]:
    """Every request of the run, built before the clock starts."""
    chooser = random.Random(plan.seed)
    operations = list(plan.mix)
    weights = [plan.mix[o] for o in operations]
    refresh = iter(refresh_tokens)
    scheduled: list[tuple[str, bytes]] = []
    for _ in range(plan.requests):
        operation = chooser.choices(operations, weights)[0]
        if operation == "verify":
            body: dict[str, Any] = {
                "accessToken": chooser.choice(access_tokens),
                "doAntiCsrfCheck": False,
                "enableAntiCsrf": False,
                "checkDatabase": True,
            }
            path = f"{app_path}/recipe/session/verify"
        elif operation == "refresh":
            body = {
                "refreshToken": next(refresh),
                "enableAntiCsrf": False,
                "useDynamicSigningKey": True,
            }
            path = f"{app_path}/recipe/session/refresh"
        else:
            body = dict(_CREATE_BODY, userId=f"user-{chooser.randrange(1_000_000)}")
            path = f"{app_path}/public/recipe/session"
        scheduled.append((operation, _request(host, path, body)))
    return scheduled


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


async def _drive(
    plan: Plan, port: int, scheduled: list[tuple[str, bytes]]
) -> tuple[dict[str, Outcome], list[float]]:
    idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(plan.connections):
        idle.put_nowait(await asyncio.open_connection("127.0.0.1", port))
    outcomes = {operation: Outcome(operation) for operation in plan.mix}
    dispatch_lag_ms: list[float] = []
    interval = 1.0 / plan.rate
    loop = asyncio.get_running_loop()

    async def one(operation: str, payload: bytes, due: float) -> None:
        outcome = outcomes[operation]
        reader, writer = await idle.get()
        try:
            writer.write(payload)
            status, body = await _read_answer(reader)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            outcome.errors += 1
            writer.close()
            idle.put_nowait(await asyncio.open_connection("127.0.0.1", port))
            return
        idle.put_nowait((reader, writer))
        if status == 200 and b'"status":"OK"' in body:
            outcome.latencies_ms.append((loop.time() - due) * 1000)
        else:
            outcome.errors += 1

    tasks: set[asyncio.Task[None]] = set()
    start = loop.time() + 0.05
    for index, (operation, payload) in enumerate(scheduled):
        due = start + index * interval
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        dispatch_lag_ms.append(max(0.0, loop.time() - due) * 1000)
        task = asyncio.create_task(one(operation, payload, due))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    while tasks:
        await asyncio.gather(*list(tasks))
    while not idle.empty():
        _, writer = idle.get_nowait()
        writer.close()
    return outcomes, dispatch_lag_ms


def run(backend: str, plan: Plan, postgres_url: str = DEFAULT_POSTGRES_URL) -> dict[str, Any]:
    with running_core(backend, postgres_url) as core:
        create = f"{core.app}/public/recipe/session"
        wanted_refresh = int(plan.requests * plan.mix.get("refresh", 0) / sum(plan.mix.values()))
        wanted = 200 + wanted_refresh + 100
        with ThreadPoolExecutor(8) as pool:
            made = list(pool.map(lambda _: call(create, _CREATE_BODY), range(wanted)))
        access = [m["accessToken"]["token"] for m in made[:200]]
        refresh = [m["refreshToken"]["token"] for m in made[200:]]
        host = f"127.0.0.1:{core.port}"
        scheduled = _schedule(plan, host, "/appid-bench", access, refresh)
        began = time.monotonic()
        outcomes, lag = asyncio.run(_drive(plan, core.port, scheduled))
        elapsed = time.monotonic() - began
    lag.sort()
    return {
        "backend": backend,
        "rate": plan.rate,
        "seconds": plan.seconds,
        "connections": plan.connections,
        "mix": plan.mix,
        "achieved_rate": round(plan.requests / elapsed, 1),
        "generator_late_p99_ms": _percentile(lag, 99),
        "generator_late_max_ms": lag[-1] if lag else None,
        "operations": {name: outcome.summary() for name, outcome in outcomes.items()},
    }


def _parse_mix(text: str) -> dict[str, int]:
    mix = {}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        if name not in ("verify", "refresh", "create"):
            raise argparse.ArgumentTypeError(f"unknown operation {name!r}")
        mix[name] = int(weight)
    return mix


def _format(result: dict[str, Any]) -> str:
    lines = [
        f"{result['backend']}: {result['rate']:.0f} req/s scheduled for {result['seconds']} s, "
        f"{result['connections']} connections; generator late p99 "
        f"{result['generator_late_p99_ms']:.2f} ms, max {result['generator_late_max_ms']:.2f} ms",
        f"  {'operation':<10} {'requests':>8} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8}",
    ]
    for name, s in result["operations"].items():
        cells = [s[k] if s[k] is not None else float("nan") for k in ("p50_ms", "p99_ms", "max_ms")]
        lines.append(
            f"  {name:<10} {s['requests']:>8} {s['errors']:>7} {cells[0]:>8.2f} {cells[1]:>8.2f} "
            f"{cells[2]:>8.2f}"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], action="append")
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--mix", type=_parse_mix, default={"verify": 70, "refresh": 20, "create": 10}
    )
    parser.add_argument("--postgres-url", default=DEFAULT_POSTGRES_URL)
    parser.add_argument(
        "--json", type=Path, default=Path(__file__).parent / "results" / "core_open_loop.json"
    )
    args = parser.parse_args(argv)
    plan = Plan(rate=args.rate, seconds=args.seconds, connections=args.connections, mix=args.mix)
    results = []
    for backend in args.backend or ["sqlite", "postgresql"]:
        result = run(backend, plan, args.postgres_url)
        results.append(result)
        print(_format(result), flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
