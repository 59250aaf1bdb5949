"""The open-loop benchmark still runs: a short schedule against a real core on SQLite.

It asserts that every scheduled request was sent, answered correctly and timed; never how
fast anything is.
"""

from __future__ import annotations

from bench import core_open_loop


def test_a_short_schedule_sends_and_times_every_request() -> None:
    plan = core_open_loop.Plan(
        rate=60, seconds=1, connections=4, mix={"verify": 70, "refresh": 20, "create": 10}
    )
    result = core_open_loop.run("sqlite", plan)

    operations = result["operations"]
    assert set(operations) == {"verify", "refresh", "create"}
    assert sum(s["requests"] for s in operations.values()) == plan.requests == 60
    for name, summary in operations.items():
        assert summary["errors"] == 0, name
        if summary["requests"]:
            assert 0 < summary["p50_ms"] <= summary["p99_ms"] <= summary["max_ms"], name
    assert result["generator_late_max_ms"] >= 0
