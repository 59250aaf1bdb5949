"""The storage contract, one test module per module of ``tessera.storage``.

Every test that takes the ``store`` or ``store_factory`` fixture (``tests/conftest.py``)
runs unchanged against each backend: SQLite, PostgreSQL and MySQL/MariaDB.
"""
