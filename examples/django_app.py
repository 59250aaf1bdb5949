"""tessera with Django, in one file: login, a protected view (sync and async), the four
ways to revoke, and a page using the official frontend SDK.

Run it (from the repository root) with::

    python examples/django_app.py runserver 3004

then open http://localhost:3004/.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.conf import settings  # type: ignore[import-untyped]

if not settings.configured:
    settings.configure(
        DEBUG=True,
        SECRET_KEY="example-only",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=["tessera.framework.django.TesseraMiddleware"],
        TESSERA={"api_base_path": "/auth"},
    )

import django  # type: ignore[import-untyped]
from django.http import HttpRequest, HttpResponse, JsonResponse  # type: ignore[import-untyped]
from django.shortcuts import redirect  # type: ignore[import-untyped]
from django.urls import path  # type: ignore[import-untyped]

import tessera
from tessera.framework.django import asyncio as tessera_async
from tessera.framework.django import create_new_session, verify_session

sys.path.insert(0, str(Path(__file__).parent))
from _shared import DATABASE, PAGE, sdk_bundle  # type: ignore[import-not-found]

django.setup()
tessera.init(database=DATABASE)


def login(request: HttpRequest) -> HttpResponse:
    body = json.loads(request.body or b"{}")  # a real app checks a password here
    session = create_new_session(request, body["userId"])
    return JsonResponse({"userId": session.get_user_id(), "handle": session.get_handle()})


@verify_session()
def me(request: Any) -> HttpResponse:
    session = request.tessera
    return JsonResponse({"userId": session.get_user_id(), "handle": session.get_handle()})


@tessera_async.verify_session()
async def me_async(request: Any) -> HttpResponse:
    return JsonResponse({"userId": request.tessera.get_user_id()})


@verify_session()
def logout(request: Any) -> HttpResponse:
    """Method 1: revoke the caller's own session; this also clears its cookies."""
    request.tessera.revoke_session()
    return JsonResponse({"status": "OK"})


def revoke_one(request: HttpRequest) -> HttpResponse:
    """Method 2: revoke one session by its handle."""
    handle = json.loads(request.body)["sessionHandle"]
    return JsonResponse({"revoked": tessera.syncio.revoke_session(handle)})


def revoke_many(request: HttpRequest) -> HttpResponse:
    """Method 3: revoke several sessions."""
    handles = json.loads(request.body)["sessionHandles"]
    return JsonResponse({"revoked": tessera.syncio.revoke_multiple_sessions(handles)})


def revoke_user(request: HttpRequest) -> HttpResponse:
    """Method 4: revoke every session of a user."""
    user_id = json.loads(request.body)["userId"]
    return JsonResponse({"revoked": tessera.syncio.revoke_all_sessions_for_user(user_id)})


def page(request: HttpRequest) -> HttpResponse:
    return HttpResponse(PAGE)


def sdk(request: HttpRequest, name: str) -> HttpResponse:
    data, cdn = sdk_bundle(name)
    if data is None:
        return redirect(cdn) if cdn else HttpResponse(status=404)
    return HttpResponse(data, content_type="application/javascript")


urlpatterns = [
    path("login", login),
    path("me", me),
    path("me-async", me_async),
    path("logout", logout),
    path("revoke-session", revoke_one),
    path("revoke-multiple-sessions", revoke_many),
    path("revoke-all-user-sessions", revoke_user),
    path("", page),
    path("sdk/<str:name>.js", sdk),
]

if __name__ == "__main__":
    from django.core.management import execute_from_command_line  # type: ignore[import-untyped]

    execute_from_command_line(sys.argv)
