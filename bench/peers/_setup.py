"""Set-up before measuring, for every target at once and in parallel: the distinct access
tokens the protected rows rotate through, the refresh tokens the refresh rows spend, and
the stored sessions that are listed and revoked (see ``_prepare.py``).

tessera's embedded targets share one database per store (one SQLite file, one set of
PostgreSQL tables), so their tokens are minted once per store; each framework gets its own
refresh tokens and bulk users (a "slot"). The SuperTokens target's sessions are created
through its core's HTTP API (CDI) with one shared client, many requests in flight.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._prepare import bulk_user
from ._targets import Settings, Target

__all__ = ["Prepared", "prepare_all", "tessera_group"]


@dataclass
class Prepared:
    """What one target's measurements use."""

    folder: Path
    slot: str
    #: True: the bulk users are made by the app's ``/seed``; False: made in set-up.
    seed_through_app: bool = False
    problem: str | None = None

    @property
    def access_file(self) -> Path:
        return self.folder / "access.txt"

    def first_access_token(self) -> str:
        with open(self.access_file, encoding="ascii") as file:
            return file.readline().strip()

    def refresh_file(self, slot: str | None = None) -> Path:
        return self.folder / f"refresh-{slot or self.slot}.txt"

    def bulk_user(self, rep: int) -> str:
        return f"bulk{rep}" if self.seed_through_app else bulk_user(self.slot, rep)


def tessera_group(target: Target) -> str:
    return f"tessera-{target.store}"


def refresh_per_slot(settings: Settings) -> int:
    """Refresh tokens per slot: three per connection for every wrk run (warm-up included)."""
    return settings.connections * 3 * (settings.runs + (1 if settings.warmup else 0))


def prepare_all(
    settings: Settings,
    workdir: Path,
    targets: list[Target],
    env_of: Callable[[Target], dict[str, str]],
    core_url: str | None,
    growth_slots: list[str],
    say: Callable[[str], None],
) -> dict[str, Prepared]:
    """Make everything the chosen targets need, in parallel; returns it by target name."""
    started = time.monotonic()
    common = {
        "BENCH_TOKENS_N": str(settings.distinct_tokens),
        "BENCH_REFRESH_N": str(refresh_per_slot(settings)),
        "BENCH_BULK": f"{settings.revoke_reps}x{settings.sessions_per_user}",
    }
    prepared: dict[str, Prepared] = {}
    chains: list[list[tuple[str, list[str], dict[str, str]]]] = []
    groups: dict[str, list[Target]] = {}
    for target in targets:
        if target.is_tessera:
            groups.setdefault(tessera_group(target), []).append(target)
    for group, members in groups.items():
        folder = workdir / "prep" / group
        slots = [t.framework for t in members]
        if group.endswith("postgresql"):
            slots += [s for s in growth_slots if any(t.growth for t in members)]
        for target in members:
            prepared[target.name] = Prepared(folder, target.framework)
        env = {**env_of(members[0]), **common, "BENCH_SLOTS": ",".join(slots)}
        chains.append([(group, ["tessera", str(folder)], env)])
    users_chain = []
    for target in targets:
        folder = workdir / "prep" / target.name
        kind = {
            "fje-flask-redis": ("fje", "fje"),
            "fastapi-users-jwt": ("fastapi-users", "-"),
            "fastapi-users-db": ("fastapi-users", "-"),
            "simplejwt-django-pg": ("simplejwt", "simplejwt"),
        }.get(target.name)
        if kind is None:
            continue
        prepared[target.name] = Prepared(folder, kind[1], seed_through_app=True)
        job = (target.name, [kind[0], str(folder)], {**env_of(target), **common})
        if kind[0] == "fastapi-users":
            users_chain.append(job)  # one after the other: they share the users table
        else:
            chains.append([job])
    if users_chain:
        chains.append(users_chain)
    threads = [threading.Thread(target=_run_chain, args=(c, workdir, prepared)) for c in chains]
    st = next((t for t in targets if t.needs_core), None)
    if st is not None:
        folder = workdir / "prep" / st.name
        prepared[st.name] = Prepared(folder, "st")
        if core_url is None:
            prepared[st.name].problem = "the core did not start"
        else:
            threads.append(
                threading.Thread(
                    target=_core_sessions_safely,
                    args=(core_url, settings, prepared[st.name]),
                )
            )
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    say(f"  set-up (tokens, refresh tokens, stored sessions): {time.monotonic() - started:.0f} s")
    return prepared


def _run_chain(
    chain: list[tuple[str, list[str], dict[str, str]]],
    workdir: Path,
    prepared: dict[str, Prepared],
) -> None:
    for name, args, env in chain:
        log = workdir / f"prep-{name}.log"
        with open(log, "wb") as sink:
            done = subprocess.run(
                [sys.executable, "-m", "bench.peers._prepare", *args],
                env=env,
                stdout=sink,
                stderr=sink,
                check=False,
                timeout=600,
            )
        if done.returncode != 0:
            tail = " | ".join(log.read_text(errors="replace").strip().splitlines()[-4:])
            for item in prepared.values():
                if str(item.folder) == args[1]:
                    item.problem = f"set-up failed: {tail[:300]}"


def _core_sessions_safely(core_url: str, settings: Settings, prepared: Prepared) -> None:
    try:
        asyncio.run(_core_sessions(core_url, settings, prepared))
    except Exception as error:  # reported in the table, never hidden
        prepared.problem = f"set-up through the core failed: {str(error)[:300]}"


async def _core_sessions(core_url: str, settings: Settings, prepared: Prepared) -> None:
    import httpx

    prepared.folder.mkdir(parents=True, exist_ok=True)
    limit = asyncio.Semaphore(32)
    async with httpx.AsyncClient(
        base_url=core_url, headers={"cdi-version": "5.2"}, timeout=60
    ) as client:

        async def create(user: str) -> dict[str, Any]:
            body = {
                "userId": user,
                "userDataInJWT": {},
                "userDataInDatabase": {},
                "useDynamicSigningKey": True,
                "enableAntiCsrf": False,
            }
            async with limit:
                answer = await client.post("/public/recipe/session", json=body)
            answer.raise_for_status()
            made: dict[str, Any] = answer.json()
            if made.get("status") != "OK":
                raise RuntimeError(f"core answered {str(made)[:200]}")
            return made

        access = await asyncio.gather(
            *(create(f"u{i % 1000}") for i in range(settings.distinct_tokens))
        )
        refresh = await asyncio.gather(
            *(create(f"r{i}") for i in range(refresh_per_slot(settings)))
        )
        await asyncio.gather(
            *(
                create(prepared.bulk_user(rep))
                for rep in range(settings.revoke_reps)
                for _ in range(settings.sessions_per_user)
            )
        )
    prepared.access_file.write_text("".join(m["accessToken"]["token"] + "\n" for m in access))
    prepared.refresh_file().write_text("".join(m["refreshToken"]["token"] + "\n" for m in refresh))
