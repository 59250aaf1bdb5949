"""What users import must exist, and nothing private may leak into __all__."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize(
    "module_name",
    [
        "tessera",
        "tessera.syncio",
        "tessera.asyncio",
        "tessera.errors",
        "tessera.config",
        "tessera.storage",
    ],
)
def test_all_matches_what_is_importable(module_name: str) -> None:
    module = importlib.import_module(module_name)
    exported = set(module.__all__)
    for name in exported:
        assert hasattr(module, name), f"{module_name}.{name} is in __all__ but missing"
    public = {n for n in vars(module) if not n.startswith("_")}
    defined_here = {
        n
        for n in public
        if getattr(getattr(module, n), "__module__", None) == module_name
        and callable(getattr(module, n))
    }
    assert defined_here <= exported, f"public but not exported: {defined_here - exported}"


def test_sync_and_async_offer_the_same_functions() -> None:
    import tessera.asyncio as a
    import tessera.syncio as s

    assert set(a.__all__) - {"AsyncSessions"} == set(s.__all__) - {"SyncSessions"}


def test_module_functions_need_init() -> None:
    import tessera.syncio

    saved, tessera._default = tessera._default, None
    try:
        with pytest.raises(RuntimeError, match=r"tessera\.init"):
            tessera.syncio.revoke_session("x")
    finally:
        tessera._default = saved


def test_init_sets_the_default(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    import tessera.syncio

    monkeypatch.chdir(str(tmp_path))
    engine = tessera.init(expired_session_purge_interval=0)
    try:
        assert tessera.get_default() is engine
        session = tessera.syncio.create_new_session("user-1")
        assert tessera.syncio.get_session_without_request_response(session.get_access_token())
        assert tessera.get_jwks()["keys"]
        assert (tmp_path / "tessera.db").exists()  # type: ignore[operator]
    finally:
        engine.close()
        tessera._default = None
