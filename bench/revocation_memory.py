"""Memory held by a process's deny set, per revocation.

    .venv/bin/python -m bench.revocation_memory                    # 100,000 revocations
    .venv/bin/python -m bench.revocation_memory --revocations 1000

Applies that many log rows (session handles as tessera makes them: a UUID, some with a
tenant suffix) to a deny set, as the feed does, and measures with ``tracemalloc`` what
stays allocated: the handle strings, the per-app mapping and the expiry queue.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tracemalloc
import uuid
from pathlib import Path

if not __package__:  # run as a script: make "tessera" and "bench" importable as usual
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tessera.revocation._denyset import DenySet
from tessera.storage.base import RevocationRecord


def measure(revocations: int) -> dict[str, float]:
    rows = [
        RevocationRecord(
            seq, "public", str(uuid.uuid4()) + ("" if seq % 4 else "_acme"), 1_800_000_000_000
        )
        for seq in range(1, revocations + 1)
    ]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    deny = DenySet(window=3660.0, gap_timeout=5.0, late_window=60.0)
    for start in range(0, revocations, 5000):  # pages, as the feed reads them
        deny.apply(rows[start : start + 5000], now=0.0)
    del rows  # the deny set keeps its own references to the handle strings
    gc.collect()
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert len(deny) == revocations
    return {
        "revocations": revocations,
        "bytes": held,
        "bytes_per_revocation": held / revocations,
        "mib": held / 2**20,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--revocations", type=int, default=100_000)
    parser.add_argument("--json", type=Path, default=None, help="also write the result here")
    args = parser.parse_args(argv)
    result = measure(args.revocations)
    print(
        f"deny set with {result['revocations']:,} revocations: {result['mib']:.1f} MiB "
        f"({result['bytes_per_revocation']:.0f} bytes each, handles included)"
    )
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
