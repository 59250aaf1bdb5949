"""Helpers for the tests, kept apart from the test modules: servers and proxies the
tests start (``private_postgres``, ``faultproxy``) and builders of test data
(``records``)."""
