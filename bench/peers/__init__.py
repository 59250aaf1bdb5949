"""tessera against the libraries users would pick instead, over real HTTP.

Run it with ``python -m bench.peers`` (see ``bench/peers/README.md``).
"""
