"""The rest of the Core Driver Interface: the version handshake, the (empty) user
lookup, signing keys and JWTs, and the apps and tenants of a core."""

from __future__ import annotations

from typing import Any

from .context import Context, app_of, observer_of, public_only
from .http import BadRequestError, Request, Response, json_response, query_str, require
from .jwks import jwks_response
from .routing import is_valid_id, split_path

__all__ = [
    "CDI_VERSIONS",
    "api_version",
    "create_jwt",
    "jwks",
    "list_apps",
    "put_app",
    "put_tenant",
    "remove_app",
    "remove_tenant",
    "user_by_id",
]

CDI_VERSIONS = ["5.4"]


def api_version(ctx: Context, req: Request) -> Response:
    public_only(req)
    app_of(ctx, req)
    return json_response({"versions": CDI_VERSIONS})


def user_by_id(ctx: Context, req: Request) -> Response:
    app_of(ctx, req)
    query_str(req.query, "userId")
    # This core keeps sessions only; the SDKs then treat the user id as the session's.
    return json_response({"status": "UNKNOWN_USER_ID_ERROR"})


# -- keys and JWTs --------------------------------------------------------------------


def jwks(ctx: Context, req: Request) -> Response:
    public_only(req)
    return jwks_response(ctx, req.route.app_id)


def create_jwt(ctx: Context, req: Request) -> Response:
    public_only(req)
    body = req.fields({"payload", "algorithm", "jwksDomain", "validity", "useStaticSigningKey"})
    payload = require(body, "payload", dict)
    algorithm = require(body, "algorithm", str)
    issuer = require(body, "jwksDomain", str)
    validity = require(body, "validity", int)
    static = require(body, "useStaticSigningKey", bool, default=True)
    if validity <= 0:
        raise BadRequestError("validity must be greater than 0")
    app = app_of(ctx, req)
    if algorithm.upper() != app.config.access_token_signing_algorithm.upper():
        return json_response({"status": "UNSUPPORTED_ALGORITHM_ERROR"})
    now = ctx.clock()
    jwt = app.dynamic.sign_jwt(
        payload, issuer=issuer, validity=validity, use_static_key=static, now=now
    )
    return json_response({"status": "OK", "jwt": jwt})


# -- apps and tenants -------------------------------------------------------------------

#: What ``PUT .../app/v2`` and ``.../tenant/v2`` accept besides the id. The factor lists
#: belong to recipes this core does not have: checked for shape, then ignored.
_TENANT_FIELDS = {"coreConfig", "firstFactors", "requiredSecondaryFactors"}


def _core_config(body: dict[str, Any]) -> dict[str, Any]:
    for name in ("firstFactors", "requiredSecondaryFactors"):
        factors = require(body, name, (list, type(None)), default=None)
        if factors is not None and not all(isinstance(f, str) for f in factors):
            raise BadRequestError(f"Field name '{name}' is invalid in JSON input")
    core_config: dict[str, Any] = require(body, "coreConfig", (dict, type(None)), default=None)
    return core_config or {}


def _apps_from_public_app(req: Request) -> None:
    # Apps are managed with the core's own keys: an app's key opens only that app.
    if req.route.app_id != "public" or req.route.tenant_given:
        raise BadRequestError("Apps can only be managed through the public app")


def put_app(ctx: Context, req: Request) -> Response:
    _apps_from_public_app(req)
    body = req.fields({"appId", *_TENANT_FIELDS})
    app_id = require(body, "appId", str).lower()
    core_config = _core_config(body)
    if not is_valid_id(app_id):
        raise BadRequestError("appId must use 1-64 characters from a-z, 0-9 and '-'")
    try:
        created = ctx.registry.put_app(app_id, core_config)
    except ValueError as exc:
        raise BadRequestError(f"Invalid core config: {exc}") from None
    return json_response({"status": "OK", "createdNew": created})


def remove_app(ctx: Context, req: Request) -> Response:
    _apps_from_public_app(req)
    body = req.fields({"appId"})
    app_id = require(body, "appId", str).lower()
    if app_id == "public":
        raise BadRequestError("The public app cannot be removed")
    removal = ctx.registry.delete_app(app_id)
    observer_of(ctx, req).for_app(app_id).revoked(removal.revoked, "app_removed", ctx.clock())
    return json_response({"status": "OK", "didExist": removal.existed})


def list_apps(ctx: Context, req: Request) -> Response:
    _apps_from_public_app(req)
    apps = [{"appId": a} for a in ctx.registry.list_apps()]
    return json_response({"status": "OK", "apps": apps})


def put_tenant(ctx: Context, req: Request) -> Response:
    public_only(req)
    body = req.fields({"tenantId", *_TENANT_FIELDS})
    tenant_id = require(body, "tenantId", str).lower()
    core_config = _core_config(body)
    route = split_path(f"/{tenant_id}/recipe/x")
    if route is None or route.tenant_id != tenant_id:
        raise BadRequestError("tenantId must use 1-64 characters from a-z, 0-9 and '-'")
    try:
        created = ctx.registry.put_tenant(req.route.app_id, tenant_id, core_config)
    except ValueError as exc:
        raise BadRequestError(f"Invalid core config: {exc}") from None
    return json_response({"status": "OK", "createdNew": created})


def remove_tenant(ctx: Context, req: Request) -> Response:
    public_only(req)
    body = req.fields({"tenantId"})
    tenant_id = require(body, "tenantId", str).lower()
    if tenant_id == "public":
        raise BadRequestError("The public tenant cannot be removed")
    removal = ctx.registry.delete_tenant(req.route.app_id, tenant_id)
    observer_of(ctx, req).revoked(
        removal.revoked, "tenant_removed", ctx.clock(), tenant_id=tenant_id
    )
    return json_response({"status": "OK", "didExist": removal.existed})
