"""The sans-I/O heart of tessera: tokens, keys, rotation rules and the session engine.

Nothing here reads the clock, speaks HTTP or imports a database driver.
"""

from .sessions import SessionEngine, SessionInformation, SessionState

__all__ = ["SessionEngine", "SessionInformation", "SessionState"]
