"""The servers the peer benchmark loads: one small app per library and framework.

Every app serves the same routes (see ``bench/peers/README.md``); settings come from
``BENCH_*`` environment variables set by the runner.
"""
