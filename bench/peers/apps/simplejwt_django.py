# mypy: ignore-errors
# (this app's libraries are installed only in bench/.venv-peers, or have no type hints)
"""djangorestframework-simplejwt with its token_blacklist app, in Django REST framework
(WSGI, gunicorn), on PostgreSQL.

Tokens are RS256 like tessera's; refresh tokens rotate and the old one is blacklisted
(``ROTATE_REFRESH_TOKENS`` + ``BLACKLIST_AFTER_ROTATION``). ``/protected`` uses
``JWTStatelessUserAuthentication`` (local verification only; the default
``JWTAuthentication`` also reads the user row). Access tokens cannot be revoked: the
blacklist holds refresh tokens only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import django
from django.conf import settings

from ._common import bare_verify, env, private_key, public_key, users

settings.configure(
    DEBUG=False,
    SECRET_KEY="benchmark-only",
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[
        "django.contrib.contenttypes",
        "django.contrib.auth",
        "rest_framework",
        "rest_framework_simplejwt.token_blacklist",
    ],
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": env("PG_NAME"),
            "USER": env("PG_USER"),
            "HOST": "127.0.0.1",
            "PORT": env("PG_PORT"),
            "CONN_MAX_AGE": 60,  # persistent connections, as a production deployment has
            "OPTIONS": {"options": f"-c search_path={env('PG_SCHEMA')}"},
        }
    },
    USE_TZ=True,
    REST_FRAMEWORK={
        "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
        "DEFAULT_AUTHENTICATION_CLASSES": [],
        "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    },
    SIMPLE_JWT={
        "ALGORITHM": "RS256",
        "SIGNING_KEY": private_key(),
        "VERIFYING_KEY": public_key(),
        "ACCESS_TOKEN_LIFETIME": timedelta(hours=1),
        "ROTATE_REFRESH_TOKENS": True,
        "BLACKLIST_AFTER_ROTATION": True,
        "UPDATE_LAST_LOGIN": False,
    },
)
django.setup()

# Everything below needs the settings above.
from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.db import transaction  # noqa: E402
from django.urls import path  # noqa: E402
from django.utils import timezone  # noqa: E402
from rest_framework.permissions import IsAuthenticated  # noqa: E402
from rest_framework.request import Request  # noqa: E402
from rest_framework.response import Response  # noqa: E402
from rest_framework.views import APIView  # noqa: E402
from rest_framework_simplejwt.authentication import JWTStatelessUserAuthentication  # noqa: E402
from rest_framework_simplejwt.token_blacklist.models import (  # noqa: E402
    BlacklistedToken,
    OutstandingToken,
)
from rest_framework_simplejwt.tokens import RefreshToken  # noqa: E402
from rest_framework_simplejwt.views import TokenRefreshView  # noqa: E402

with transaction.atomic():
    call_command("migrate", verbosity=0)
    User.objects.bulk_create(
        [User(username=name, password="!unusable") for name in users()], ignore_conflicts=True
    )


class Open(APIView):
    def get(self, request: Request) -> Response:
        return Response({"ok": True})


class Bare(APIView):
    def get(self, request: Request) -> Response:
        claims = bare_verify(request.headers.get("authorization"))
        return Response({"ok": False} if claims is None else {"user": claims["sub"]})


class Protected(APIView):
    authentication_classes = [JWTStatelessUserAuthentication]  # noqa: RUF012 - DRF style
    permission_classes = [IsAuthenticated]  # noqa: RUF012

    def get(self, request: Request) -> Response:
        return Response({"user": request.user.id})


class Login(APIView):
    def post(self, request: Request) -> Response:
        # The password check is left out for every library alike (see the README).
        refresh = RefreshToken.for_user(User.objects.get(username=request.query_params["user"]))
        return Response({"access": str(refresh.access_token), "refresh": str(refresh)})


class Seed(APIView):
    def post(self, request: Request) -> Response:
        user = User.objects.get(username=request.query_params["user"])
        for _ in range(int(request.query_params["n"])):
            RefreshToken.for_user(user)
        return Response({"ok": True})


def _live_tokens(username: str) -> Any:
    return OutstandingToken.objects.filter(
        user__username=username, expires_at__gt=timezone.now(), blacklistedtoken__isnull=True
    )


class Sessions(APIView):
    def get(self, request: Request) -> Response:
        jtis = _live_tokens(request.query_params["user"]).values_list("jti", flat=True)
        return Response({"sessions": list(jtis)})


class RevokeAll(APIView):
    def post(self, request: Request) -> Response:
        tokens = [BlacklistedToken(token=t) for t in _live_tokens(request.query_params["user"])]
        BlacklistedToken.objects.bulk_create(tokens, ignore_conflicts=True)
        return Response({"revoked": len(tokens)})


urlpatterns = [
    path("open", Open.as_view()),
    path("bare", Bare.as_view()),
    path("protected", Protected.as_view()),
    path("login", Login.as_view()),
    path("refresh", TokenRefreshView.as_view()),
    path("seed", Seed.as_view()),
    path("sessions", Sessions.as_view()),
    path("revoke-all", RevokeAll.as_view()),
]
app = get_wsgi_application()


def mint_tokens(access: int, refresh: int) -> tuple[list[str], list[str]]:
    """Set-up of the benchmark (not measured): tokens made with the library's own classes
    (a refresh token is also recorded as outstanding, as at a real login)."""
    from rest_framework_simplejwt.tokens import AccessToken

    found = {u.username: u for u in User.objects.filter(username__startswith="u")}
    return (
        [str(AccessToken.for_user(found[f"u{i % 1000}"])) for i in range(access)],
        [str(RefreshToken.for_user(found[f"u{i}"])) for i in range(refresh)],
    )
