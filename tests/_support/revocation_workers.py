"""Verifier processes for the revocation tests: each is a separate OS process with its
own Tessera object (and so its own revocation feed), driven through a pipe."""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from dataclasses import asdict
from multiprocessing.connection import Connection
from typing import Any

from tessera import Tessera, TryRefreshTokenError, UnauthorisedError


def verdict(t: Tessera, token: str) -> str:
    try:
        t.syncio.get_session_without_request_response(token)
    except UnauthorisedError:
        return "refused"
    except TryRefreshTokenError:
        return "expired"
    except Exception as exc:
        return f"error: {type(exc).__name__}: {exc}"
    return "ok"


def serve(connection: Connection, url: str, settings: dict[str, Any]) -> None:
    t = Tessera(url, **settings)
    try:
        t.revocations.wait_until_healthy(20)
        connection.send("ready")
        while True:
            command, *args = connection.recv()
            if command == "stop":
                break
            if command == "verify":
                connection.send([verdict(t, token) for token in args[0]])
            elif command == "until_refused":
                tokens, timeout = args
                started = time.monotonic()
                pending = set(tokens)
                while pending and time.monotonic() - started < timeout:
                    pending = {tok for tok in pending if verdict(t, tok) != "refused"}
                # Refused by the deny set itself, not by a database read.
                handles_known = all(t.engine.is_revoked(_handle(tok)) for tok in tokens)
                connection.send((time.monotonic() - started, sorted(pending), handles_known))
            elif command == "stats":
                connection.send(asdict(t.revocation_stats()))
    finally:
        t.close()
        connection.close()


def _handle(token: str) -> str:
    import base64
    import json

    body = token.split(".")[1]
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return str(payload["sessionHandle"])


class Verifiers:
    """``count`` verifier processes (spawned, so nothing is inherited)."""

    def __init__(self, count: int, url: str, settings: dict[str, Any]) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.processes: list[Any] = []
        for _ in range(count):
            ours, theirs = context.Pipe()
            process = context.Process(target=serve, args=(theirs, url, settings), daemon=True)
            process.start()
            theirs.close()
            self.pipes.append(ours)
            self.processes.append(process)
        for pipe in self.pipes:
            assert pipe.poll(60), "verifier did not start"
            assert pipe.recv() == "ready"

    def ask(self, *command: Any, timeout: float = 60) -> list[Any]:
        for pipe in self.pipes:
            pipe.send(command)
        answers = []
        for pipe in self.pipes:
            assert pipe.poll(timeout), f"verifier did not answer {command[0]}"
            answers.append(pipe.recv())
        return answers

    def close(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send(("stop",))
        for process in self.processes:
            process.join(20)
            if process.is_alive():
                process.kill()
                process.join()
        for pipe in self.pipes:
            pipe.close()
