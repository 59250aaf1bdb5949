"""OpenTelemetry spans around storage calls, read with the SDK's in-memory exporter on
every backend: one span per store call, named for it, with the database system and the
call and nothing else (no token, hash, key or secret); and without opentelemetry
installed, everything works and nothing is traced."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from tessera import StorageError, Tessera
from tessera.engine.refresh_token import hash_once, hash_twice
from tessera.storage import SqlStore
from tessera.storage._store import TRACED_CALLS

_EXPORTER = InMemorySpanExporter()


@pytest.fixture
def spans() -> Callable[[], list[ReadableSpan]]:
    """The spans finished since the test started."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        # The global provider can be set once per process; later tests reuse it.
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
    _EXPORTER.clear()
    return lambda: list(_EXPORTER.get_finished_spans())


#: Calls the revocation feed makes from its own thread, at its own times.
_BACKGROUND = {"read_revocations", "purge_revocations"}


def _calls(found: list[ReadableSpan]) -> list[str]:
    """The calls the test made, in order (the feed's, interleaved, left out)."""
    calls = [span.name.removeprefix("tessera.storage.") for span in found]
    return [call for call in calls if call not in _BACKGROUND]


def test_each_store_call_is_one_span_that_names_it(
    make_tessera: Callable[..., Tessera], backend: str, spans: Callable[[], list[ReadableSpan]]
) -> None:
    app = make_tessera()
    sessions = app.syncio
    session = sessions.create_new_session("u1", {"role": "admin"}, {"secret-data": "s3cr3t"})
    created = _calls(spans())
    assert "create_session" in created

    tokens = session.get_all_session_tokens_dangerously()
    refresh = tokens["refreshToken"]
    assert isinstance(refresh, str)
    verified = sessions.get_session_without_request_response(
        tokens["accessToken"], tokens["antiCsrfToken"], check_database=True
    )
    assert verified is not None
    assert _calls(spans())[len(created) :] == ["load_session"]

    before = len(_calls(spans()))
    renewed = sessions.refresh_session_without_request_response(refresh, tokens["antiCsrfToken"])
    refresh_calls = _calls(spans())[before:]
    assert refresh_calls[:2] == ["load_session", "rotate_refresh_token"]

    before = len(_calls(spans()))
    assert sessions.revoke_session(session.get_handle())
    assert _calls(spans())[before:] == ["delete_sessions"]

    found = spans()
    system = {"sqlite": "sqlite", "postgresql": "postgresql", "mysql": "mysql"}[backend]
    for span in found:
        call = span.name.removeprefix("tessera.storage.")
        assert span.name.startswith("tessera.storage.")
        assert call in TRACED_CALLS
        assert span.kind is SpanKind.CLIENT
        assert dict(span.attributes or {}) == {
            "db.system": system,
            "db.system.name": system,
            "db.operation.name": call,
        }
        assert span.status.status_code is StatusCode.UNSET
        assert span.instrumentation_scope is not None
        assert span.instrumentation_scope.name == "tessera.storage"

    # Read as an attacker would: no token, hash, key, secret, nor even a handle or user.
    renewed_tokens = renewed.get_all_session_tokens_dangerously()
    secrets = [
        v
        for t in (tokens, renewed_tokens)
        for k, v in t.items()
        if isinstance(v, str) and k != "accessAndFrontTokenUpdated"
    ]
    refresh_tokens = [refresh, renewed_tokens["refreshToken"]]
    secrets += [f(t) for t in refresh_tokens if t for f in (hash_once, hash_twice)]
    secrets += [session.get_handle(), "u1", "s3cr3t", "admin"]
    keys = app.store.list_signing_keys()
    secrets += [k.private_key for k in keys] + [k.public_key for k in keys]
    text = "\n".join(span.to_json() for span in spans())
    assert all(secrets)
    for secret in secrets:
        assert secret not in text, f"reached a span: {secret[:12]}..."


def test_a_failing_call_is_an_error_span(
    store: SqlStore, spans: Callable[[], list[ReadableSpan]]
) -> None:
    store.drop_tables()
    with pytest.raises(StorageError):
        store.load_session("handle-that-is-not-in-the-span")
    (span,) = spans()
    assert span.name == "tessera.storage.load_session"
    assert span.status.status_code is StatusCode.ERROR
    assert [event.name for event in span.events] == ["exception"]
    assert "handle-that-is-not-in-the-span" not in span.to_json()


def test_every_call_of_the_store_interface_is_traced() -> None:
    # Read from the protocols: a call added to the interface is traced with no list to edit.
    assert {"load_session", "rotate_refresh_token", "delete_sessions", "put_tenant"} <= set(
        TRACED_CALLS
    )
    assert not {"for_app", "close"} & set(TRACED_CALLS)
    for call in TRACED_CALLS:
        assert getattr(SqlStore, call).__wrapped__ is not None


def test_without_opentelemetry_nothing_is_traced_and_everything_works(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import json, sys
        sys.modules["opentelemetry"] = None  # as if it were not installed: import fails
        from tessera import Tessera
        from tessera.storage import _tracing

        with Tessera("sqlite:///{tmp_path}/s.db") as app:
            sessions = app.syncio
            session = sessions.create_new_session("u1")
            tokens = session.get_all_session_tokens_dangerously()
            sessions.get_session_without_request_response(
                tokens["accessToken"], tokens["antiCsrfToken"], check_database=True
            )
            renewed = sessions.refresh_session_without_request_response(
                tokens["refreshToken"], tokens["antiCsrfToken"]
            )
            revoked = sessions.revoke_session(renewed.get_handle())
        print(json.dumps({{
            "tracer": _tracing._tracer is None,
            "otel_loaded": sys.modules.get("opentelemetry") is not None,
            "revoked": revoked,
        }}))
        """
    )
    done = subprocess.run(  # noqa: S603 - our interpreter, our script
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {
        "tracer": True,
        "otel_loaded": False,
        "revoked": True,
    }
