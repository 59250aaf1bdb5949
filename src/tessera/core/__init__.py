"""The tessera core: the session engine over HTTP, speaking the SuperTokens Core Driver
Interface 5.4, so that SuperTokens backend SDKs can use it as their core.

``CoreApp(load_config(...))`` is a pure ASGI application; ``tessera start`` runs it.
"""

from .asgi import CoreApp
from .config import CoreConfig, load_config

__all__ = ["CoreApp", "CoreConfig", "load_config"]
