"""``tessera keys``: make a key-encryption key, show how the stored keys are kept, and
encrypt them all under the newest key.

    tessera keys generate                 a new key, for key_encryption_keys
    tessera keys status [--config PATH] [--database URL]
    tessera keys rewrap [--config PATH] [--database URL]

``status`` and ``rewrap`` read the database, the table prefix and the keys as ``tessera
start`` does: from ``config.yaml`` (``--config``) and the environment
(``TESSERA_KEY_ENCRYPTION_KEYS``, ``DATABASE_URL``, ``TABLE_NAME_PREFIX``). Keys are
never taken from the command line, where other users of the machine could read them.
They serve embedded apps as well as cores: the tables are the same.
"""

from __future__ import annotations

import argparse
import sys
from urllib.parse import urlsplit

from ..engine.key_material import key_material_status, rewrap_key_material
from ..engine.key_wrapping import KeyWrapper, generate_key_encryption_key
from ..errors import StorageError
from ..storage import SqlStore, Timeouts, open_store
from .config import CoreConfig, load_config

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="keys_command", metavar="ACTION", required=True)
    actions.add_parser(
        "generate", help="print a new key-encryption key (32 random bytes, url-safe base64)"
    )
    for name, text in (
        ("status", "count the stored signing keys and secrets by the key that encrypts them"),
        ("rewrap", "encrypt every stored signing key and secret under the newest key"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("--config", metavar="PATH", help="the core's config.yaml")
        action.add_argument("--database", metavar="URL", help="the database (else as configured)")


def run(args: argparse.Namespace) -> int:
    if args.keys_command == "generate":
        print(generate_key_encryption_key())
        return 0
    overrides = {} if args.database is None else {"database_url": args.database}
    try:
        config = load_config(args.config, overrides=overrides)
    except ValueError as exc:
        print(f"tessera: {exc}", file=sys.stderr)
        return 2
    wrapper = KeyWrapper(config.key_encryption_keys)
    if args.keys_command == "rewrap" and not wrapper.encrypts:
        print(
            "tessera: no key_encryption_keys configured (set TESSERA_KEY_ENCRYPTION_KEYS "
            "or key_encryption_keys in config.yaml; make one with `tessera keys generate`)",
            file=sys.stderr,
        )
        return 2
    try:
        store = _open(config)
    except StorageError as exc:
        print(
            f"tessera: cannot open the database {_where(config.database)}: {exc}", file=sys.stderr
        )
        return 1
    try:
        print(f"database: {_where(config.database)}, tables {config.table_name_prefix}*")
        _print_keys(wrapper)
        if args.keys_command == "rewrap":
            return _rewrap(store, wrapper)
        return _status(store, wrapper)
    except StorageError as exc:
        print(f"tessera: the database failed: {exc}", file=sys.stderr)
        return 1
    finally:
        store.close()


def _open(config: CoreConfig) -> SqlStore:
    return open_store(
        config.database,
        table_name_prefix=config.table_name_prefix,
        pool_size=1,
        timeouts=Timeouts(
            connect=config.database_connect_timeout,
            statement=config.database_statement_timeout,
            socket=config.database_socket_timeout,
        ),
    )


def _print_keys(wrapper: KeyWrapper) -> None:
    if not wrapper.encrypts:
        print("key-encryption keys: none configured (keys are stored in plain text)")
        return
    ids = [f"{kek_id} (encrypts)" if i == 0 else kek_id for i, kek_id in enumerate(wrapper.kek_ids)]
    print(f"key-encryption keys, newest first: {', '.join(ids)}")


def _rewrap(store: SqlStore, wrapper: KeyWrapper) -> int:
    report = rewrap_key_material(store, wrapper)
    print(
        f"re-encrypted {report.rewrapped} rows under key {wrapper.kek_ids[0]}; "
        f"{report.already_current} were already under it; "
        f"{report.changed_elsewhere} changed by another process meanwhile"
    )
    for problem in report.unreadable:
        print(f"tessera: {problem}", file=sys.stderr)
    if report.changed_elsewhere and not report.unreadable:
        print("run it again to check that nothing is left")
    return 1 if report.unreadable else 0


def _status(store: SqlStore, wrapper: KeyWrapper) -> int:
    status = key_material_status(store, wrapper)
    print(f"stored signing keys and secrets: {status.total}")
    for kek_id, count in sorted(status.by_kek.items(), key=lambda item: item[0] or ""):
        where = "plain text" if kek_id is None else f"under {kek_id}"
        known = kek_id is None or kek_id in wrapper.kek_ids
        print(f"  {where}: {count}" + ("" if known else " (this key is not configured)"))
    for problem in status.unreadable:
        print(f"tessera: {problem}", file=sys.stderr)
    newest = wrapper.kek_ids[0] if wrapper.encrypts else None
    behind = status.total - status.by_kek[newest]
    if behind and wrapper.encrypts:
        print(f"{behind} not under {newest}: run `tessera keys rewrap`")
    return 1 if status.unreadable or behind else 0


def _where(url: str) -> str:
    """The database URL without its user name and password."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
