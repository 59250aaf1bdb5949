"""What every core handler receives: the app registry and the clock, plus the two
checks most of them share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .._observer import Observer
from ..errors import ForbiddenError
from .apps import AppEngines, AppRegistry
from .http import Request, Response
from .jwks import LastKeySets

__all__ = ["Context", "Handler", "app_of", "observer_of", "public_only"]


@dataclass(frozen=True)
class Context:
    registry: AppRegistry
    clock: Callable[[], int]
    #: The key sets last served, answered while the database is down.
    last_key_sets: LastKeySets = field(default_factory=LastKeySets)
    #: Metrics and audit events (``Observer.for_app`` names the request's app).
    observer: Observer = field(default_factory=lambda: Observer(metrics=False))


Handler = Callable[[Context, Request], Response]


def app_of(ctx: Context, req: Request) -> AppEngines:
    return ctx.registry.get(req.route.app_id)


def observer_of(ctx: Context, req: Request) -> Observer:
    return ctx.observer.for_app(req.route.app_id)


def public_only(req: Request) -> None:
    """App-level APIs refuse a tenant segment other than ``public``."""
    if req.route.tenant_given:
        raise ForbiddenError("Only public tenantId can call this app specific API")
