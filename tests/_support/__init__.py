"""Helpers for the tests, kept apart from the test modules (fixtures stay in the
``conftest.py`` files and use these).

- Clocks and databases: ``clock`` (``FakeClock``), ``waiting`` (``eventually``),
  ``databases`` (the servers' URLs, Redis's too),
  ``records`` (builders of stored records), ``private_postgres`` (a PostgreSQL server
  of a test's own), ``faultproxy`` (a TCP proxy that breaks the network on demand).
- HTTP apps and clients: ``framework_apps`` (one small app per framework, and
  ``Served``), ``django_urls`` (its Django routes), ``servers`` (loopback ASGI and WSGI
  servers), ``wire`` (reading the protocol off responses; a browser-like client),
  ``browser`` (the browser suite's backends and pages), ``examples`` (starting the
  apps of ``examples/`` as a user would), ``doctor`` (running the doctor against them).
- The core: ``cores`` (starting real cores, making apps in them), ``cdi`` (a few CDI
  calls over plain HTTP).
- Processes: ``revocation_workers`` (verifier processes, each with its own feed).
"""
