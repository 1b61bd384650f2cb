"""Who may use the inspector: whoever holds its token, sent as ``Authorization: Bearer``.

The token is MNEMO_INSPECTOR_TOKEN; without one, a fresh token is made at each start and the
inspector is served only when the HTTP server listens on this machine alone.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import secrets

from aiohttp import web
from aiohttp.typedefs import Middleware

from bot.inspector.api import Handler
from bot.settings import Settings

#: Paths under /inspector/api that need no token (the API's description holds no data).
PUBLIC_PATHS = frozenset({"/inspector/api/openapi.json"})


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def inspector_token(settings: Settings) -> tuple[str, bool] | None:
    """The token and whether it was generated; None when the inspector must not be served
    (no token configured and the server reachable from other machines)."""
    if settings.inspector_token is not None:
        return settings.inspector_token.get_secret_value(), False
    if not is_loopback(settings.http_host):
        return None
    return secrets.token_urlsafe(24), True


def _unauthorized() -> web.HTTPUnauthorized:
    return web.HTTPUnauthorized(
        text=json.dumps({"error": "send the inspector token as 'Authorization: Bearer <token>'"}),
        content_type="application/json",
        headers={"WWW-Authenticate": 'Bearer realm="mnemo-inspector"'},
    )


def bearer_auth(token: str) -> Middleware:
    """Refuse API requests without the token (compared in constant time)."""
    expected = token.encode()

    @web.middleware
    async def check_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/inspector/api/") and request.path not in PUBLIC_PATHS:
            scheme, _, given = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                given.strip().encode(), expected
            ):
                raise _unauthorized()
        return await handler(request)

    return check_token
