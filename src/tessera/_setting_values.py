"""Setting values as they arrive: text from a file or the environment turned into the
setting's type, and a value of the wrong type refused with the setting's name."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

__all__ = ["check_types", "coerce"]


def check_types(config: Any) -> None:
    """Refuse a setting of the wrong type, naming it (a dataclass of settings)."""
    for f in fields(config):
        value = getattr(config, f.name)
        kind = str(f.type)
        if value is None and "None" in kind:
            continue
        if "bool" in kind and not isinstance(value, bool):
            raise TypeError(f"setting {f.name} must be True or False, not {value!r}")
        if kind.startswith(("int", "float")) and (
            isinstance(value, bool) or not isinstance(value, int | float)
        ):
            raise TypeError(f"setting {f.name} must be a number, not {value!r}")
        if kind == "int" and not isinstance(value, int):
            raise TypeError(f"setting {f.name} must be a whole number, not {value!r}")


def coerce(name: str, kind: Any, value: Any) -> Any:
    """``value`` as the setting's type, when it came as text (a file, the environment)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    kind = str(kind)
    if text.lower() in ("null", "none", "") and "None" in kind:
        return None
    try:
        if "bool" in kind:
            if text.lower() not in ("true", "false"):
                raise ValueError(text)
            return text.lower() == "true"
        if kind.startswith("int"):
            return int(text)
        if kind.startswith("float"):
            return float(text)
    except ValueError:
        raise ValueError(f"invalid setting {name}: {value!r} is not a {kind.split()[0]}") from None
    return text
