"""Every stored signing key and secret at once: the start-up check that each can be
read with the configured key-encryption keys, their state (``tessera keys status``),
and re-encryption under the newest key (``tessera keys rewrap``).

Re-encryption replaces each value by a compare-and-swap on the value it read, so it can
run while the app serves, in several processes at once, and again at any time: a row
another process changed meanwhile is left to it, and a second run finds nothing to do.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..errors import KeyMaterialError
from ..storage.base import SessionStore, StoredKeyMaterial
from .key_wrapping import KeyWrapper, Row, sealed_with

__all__ = [
    "KeyMaterialStatus",
    "RewrapReport",
    "check_key_material",
    "key_material_status",
    "rewrap_key_material",
]


@dataclass
class RewrapReport:
    """What ``rewrap_key_material`` did, counted in rows (keys and secrets)."""

    #: Sealed anew under the newest key-encryption key (plain text or an older key before).
    rewrapped: int = 0
    #: Already under the newest key: left alone.
    already_current: int = 0
    #: Changed or deleted by another process between reading and replacing: left to it.
    changed_elsewhere: int = 0
    #: Rows that could not be read: their key-encryption key is missing, or they were
    #: altered. They are left as they are.
    unreadable: list[KeyMaterialError] = field(default_factory=list)


@dataclass
class KeyMaterialStatus:
    """How the stored rows are kept, in rows per key-encryption key id (``None``: plain
    text), and the rows that cannot be read with the configured keys."""

    by_kek: Counter[str | None] = field(default_factory=Counter)
    unreadable: list[KeyMaterialError] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.by_kek.values())


def _row(item: StoredKeyMaterial) -> Row:
    return Row(item.kind, item.app_id, item.name)


def check_key_material(
    store: SessionStore, wrapper: KeyWrapper, *, every_app: bool = False
) -> None:
    """Raise ``KeyMaterialError`` for the first row of this app (or of every app) that
    the configured keys cannot decrypt. Decrypts only (microseconds a row): nothing is
    loaded, cached or written."""
    for item in store.list_key_material(every_app=every_app):
        wrapper.open(item.value, _row(item))


def key_material_status(store: SessionStore, wrapper: KeyWrapper) -> KeyMaterialStatus:
    """Every app's rows, counted by the key that sealed them, each tried."""
    status = KeyMaterialStatus()
    for item in store.list_key_material(every_app=True):
        status.by_kek[sealed_with(item.value)] += 1
        try:
            wrapper.open(item.value, _row(item))
        except KeyMaterialError as exc:
            status.unreadable.append(exc)
    return status


def rewrap_key_material(store: SessionStore, wrapper: KeyWrapper) -> RewrapReport:
    """Seal every app's signing keys and secrets under the newest key-encryption key:
    plain-text rows and rows under older keys alike. Safe while the app runs and in
    several processes at once; running it again changes nothing. ``ValueError`` when no
    key-encryption key is configured."""
    if not wrapper.encrypts:
        raise ValueError(
            "key_encryption_keys is empty: there is no key to encrypt with "
            "(make one with `tessera keys generate`)"
        )
    report = RewrapReport()
    for item in store.list_key_material(every_app=True):
        if wrapper.is_current(item.value):
            report.already_current += 1
            continue
        row = _row(item)
        try:
            plain = wrapper.open(item.value, row)
        except KeyMaterialError as exc:
            report.unreadable.append(exc)
            continue
        if store.replace_key_material(item, wrapper.seal(plain, row)):
            report.rewrapped += 1
        else:
            report.changed_elsewhere += 1
    return report
