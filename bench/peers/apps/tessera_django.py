# mypy: ignore-errors
# (this app's libraries are installed only in bench/.venv-peers, or have no type hints)
"""tessera embedded in Django through ``tessera.framework.django`` (WSGI, gunicorn).

The settings live here so the app is one file: ``gunicorn bench.peers.apps.tessera_django:app``.
"""

from __future__ import annotations

from typing import Any

import django
from django.conf import settings
from django.http import HttpRequest, JsonResponse
from django.urls import path

from tessera import Tessera

from ._common import bare_verify, env

tessera = Tessera(env("DATABASE"), table_name_prefix=env("PREFIX", "tessera_"))
settings.configure(
    DEBUG=False,
    SECRET_KEY="benchmark-only",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=["tessera.framework.django.TesseraMiddleware"],
    INSTALLED_APPS=[],
    DATABASES={},
    TESSERA_OBJECT=tessera,
    USE_TZ=True,
)
django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402 - needs the settings
from django.views.decorators.http import require_GET, require_POST  # noqa: E402

from tessera.framework.django import create_new_session, verify_session  # noqa: E402


@require_GET
def open_route(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"ok": True})


@require_GET
def bare(request: HttpRequest) -> JsonResponse:
    claims = bare_verify(request.headers.get("authorization"))
    return JsonResponse({"ok": False} if claims is None else {"user": claims["sub"]})


@require_GET
@verify_session()
def protected(request: Any) -> JsonResponse:
    return JsonResponse({"user": request.tessera.get_user_id()})


@require_GET
@verify_session(check_database=True)
def protected_db(request: Any) -> JsonResponse:
    return JsonResponse({"user": request.tessera.get_user_id()})


@require_POST
def login(request: HttpRequest) -> JsonResponse:
    create_new_session(request, request.GET["user"])
    return JsonResponse({"ok": True})


@require_POST
def seed(request: HttpRequest) -> JsonResponse:
    for _ in range(int(request.GET["n"])):
        tessera.syncio.create_new_session(request.GET["user"])
    return JsonResponse({"ok": True})


@require_GET
def sessions(request: HttpRequest) -> JsonResponse:
    handles = tessera.syncio.get_all_session_handles_for_user(request.GET["user"])
    return JsonResponse({"sessions": handles})


@require_POST
def revoke_all(request: HttpRequest) -> JsonResponse:
    revoked = tessera.syncio.revoke_all_sessions_for_user(request.GET["user"])
    return JsonResponse({"revoked": len(revoked)})


urlpatterns = [
    path("open", open_route),
    path("bare", bare),
    path("protected", protected),
    path("protected-db", protected_db),
    path("login", login),
    path("seed", seed),
    path("sessions", sessions),
    path("revoke-all", revoke_all),
]
app = get_wsgi_application()
