"""URLs and views of the Django test app (see ``apps.py``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse  # type: ignore[import-untyped]
from django.urls import path  # type: ignore[import-untyped]

from tessera.framework.django import asyncio as tessera_async
from tessera.framework.django import create_new_session, verify_session

from .framework_apps import failing_claim, fresh, logged

STATE: dict[str, Any] = {}


class RequestLogMiddleware:
    def __init__(self, get_response: Callable[[Any], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        if request.path != "/test/log":
            headers = {k.lower(): v for k, v in request.headers.items()}
            STATE["log"].append(logged(request.method, request.path, headers))
        return self.get_response(request)


def login(request: HttpRequest) -> HttpResponse:
    body = json.loads(request.body or b"{}")
    create_new_session(
        request,
        body["userId"],
        body.get("payload"),
        tenant_id=body.get("tenantId", "public"),
        amr=body.get("amr"),
    )
    return JsonResponse({"userId": body["userId"]})


@verify_session(claim_validators=[fresh])
def fresh_route(request: Any) -> HttpResponse:
    return JsonResponse({"authTime": request.tessera.get_auth_time()})


@verify_session()
def reauth(request: Any) -> HttpResponse:
    request.tessera.mark_reauthenticated(["pwd", "otp"])
    return JsonResponse({"authTime": request.tessera.get_auth_time()})


@verify_session()
def logout_others(request: Any) -> HttpResponse:
    body = json.loads(request.body or b"{}")
    return JsonResponse(
        {"revoked": request.tessera.revoke_other_sessions(bool(body.get("allTenants")))}
    )


@tessera_async.verify_session(claim_validators=[fresh])
async def fresh_async(request: Any) -> HttpResponse:
    return JsonResponse({"authTime": request.tessera.get_auth_time()})


@tessera_async.verify_session()
async def reauth_async(request: Any) -> HttpResponse:
    await request.tessera.mark_reauthenticated(["pwd"])
    return JsonResponse({"authTime": request.tessera.get_auth_time()})


@verify_session()
def protected(request: Any) -> HttpResponse:
    return JsonResponse(
        {"userId": request.tessera.get_user_id(), "handle": request.tessera.get_handle()}
    )


@verify_session(session_required=False)
def optional(request: Any) -> HttpResponse:
    return JsonResponse({"userId": request.tessera.get_user_id() if request.tessera else None})


@verify_session(claim_validators=[failing_claim])
def claim(request: Any) -> HttpResponse:
    return JsonResponse({})


@verify_session(check_database=True)
def check_db(request: Any) -> HttpResponse:
    return JsonResponse({"userId": request.tessera.get_user_id()})


@verify_session()
def logout(request: Any) -> HttpResponse:
    request.tessera.revoke_session()
    return JsonResponse({"status": "OK"})


@verify_session()
def update_payload(request: Any) -> HttpResponse:
    request.tessera.merge_into_access_token_payload({"role": "admin"})
    return JsonResponse({})


def revoke_all(request: HttpRequest) -> HttpResponse:
    body = json.loads(request.body or b"{}")
    revoked = STATE["tessera"].syncio.revoke_all_sessions_for_user(body["userId"])
    return JsonResponse({"revoked": revoked})


async def login_async(request: HttpRequest) -> HttpResponse:
    body = json.loads(request.body or b"{}")
    await tessera_async.create_new_session(request, body["userId"])
    return JsonResponse({"userId": body["userId"]})


@tessera_async.verify_session()
async def protected_async(request: Any) -> HttpResponse:
    return JsonResponse({"userId": request.tessera.get_user_id()})


@tessera_async.verify_session()
async def logout_async(request: Any) -> HttpResponse:
    await request.tessera.revoke_session()
    return JsonResponse({"status": "OK"})


def test_log(request: HttpRequest) -> HttpResponse:
    return JsonResponse(STATE["log"], safe=False)


urlpatterns = [
    path("login", login),
    path("protected", protected),
    path("optional", optional),
    path("claim", claim),
    path("check-db", check_db),
    path("logout", logout),
    path("update-payload", update_payload),
    path("revoke-all", revoke_all),
    path("fresh", fresh_route),
    path("reauth", reauth),
    path("logout-others", logout_others),
    path("async/fresh", fresh_async),
    path("async/reauth", reauth_async),
    path("test/log", test_log),
    path("async/login", login_async),
    path("async/protected", protected_async),
    path("async/logout", logout_async),
]
