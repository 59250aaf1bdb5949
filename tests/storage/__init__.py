"""The storage contract, one test module per module of ``tessera.storage``.

Every test that takes the ``store`` or ``store_factory`` fixture (``tests/conftest.py``)
runs unchanged against each backend: SQLite, PostgreSQL and MySQL/MariaDB.

Beside them, the store when the database fails, through a ``Tessera`` object: broken
tables and lost answers (``test_faults``), network faults through a proxy
(``test_network_faults``) and a server restarted under load (``test_database_restart``).
"""
