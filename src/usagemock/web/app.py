"""Compose the mock: one connexion AsyncApp per API, at the root or under its own prefix."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime

import starlette.convertors
from connexion import AsyncApp
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from usagemock.access import OPEN, load_access
from usagemock.settings import Settings
from usagemock.specs import spec_path
from usagemock.web.auth import bearer_handler
from usagemock.web.errors import install_error_handlers
from usagemock.web.handlers import OPERATIONS, Clock, MockContext
from usagemock.web.oas31 import add_api


class _AnyPathConvertor(starlette.convertors.PathConvertor):
    """starlette's ``path`` convertor, matching newlines too.

    connexion mounts each API with ``Mount(base_path)``, whose ``{path:path}`` is ``.*`` and stops
    at a newline: ``/orgs/%0A/billing/overage`` would miss every route and get a 404 the spec
    does not document, though ``org_id`` is any string.
    """

    regex = "(?s:.*)"


starlette.convertors.register_url_convertor("path", _AnyPathConvertor())


def system_clock() -> datetime:
    """Real time, in UTC."""
    return datetime.now(UTC)


def create_app(settings: Settings, *, clock: Clock | None = None) -> ASGIApp:
    """The ASGI app ``usagemock serve`` runs: every API in ``settings.apis``.

    ``clock`` defaults to ``settings.now`` when set (a frozen clock), else real time.
    """
    if clock is None:
        frozen = settings.now
        clock = system_clock if frozen is None else (lambda: frozen)
    policy = load_access(settings.fixtures) if settings.fixtures else OPEN
    ctx = MockContext(seed=settings.seed, policy=policy, clock=clock)
    app: ASGIApp
    if settings.api != "all":
        app = api_app(settings.api, ctx, settings, base_path=None)
    else:
        app = PrefixRouter({api: api_app(api, ctx, settings, f"/{api}") for api in settings.apis})
    # A frontend dev server on another port calls the mock from the browser: without CORS the
    # browser blocks it, and "only change the base URL" would not be true.
    return CORSMiddleware(
        app, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"], expose_headers=["*"]
    )


def api_app(api: str, ctx: MockContext, settings: Settings, base_path: str | None) -> AsyncApp:
    """One API's connexion app, serving its 3.1 spec with Swagger UI at ``<base>/ui/``."""
    operations = OPERATIONS[api](ctx)
    app = AsyncApp(__name__)
    add_api(
        app,
        spec_path(api),
        base_path=base_path or "",
        name=api,
        trusted=True,  # tests/test_specs.py lints the bundled specs; start-up need not
        resolver=Resolver(function_resolver=lambda operation_id: operations[operation_id]),
        validate_responses=settings.validate_responses,
        security_map={"bearer": bearer_handler(ctx.policy)},
        swagger_ui_options=SwaggerUIOptions(swagger_ui_path="/ui"),
    )
    install_error_handlers(app, api)
    return app


class PrefixRouter:
    """Send ``/<api>/...`` to that API's app; anything else gets a JSON 404 listing the APIs."""

    def __init__(self, apps: Mapping[str, ASGIApp]) -> None:
        self._apps = dict(apps)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route one ASGI connection by its first path segment."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        first = scope["path"].split("/", 2)[1]
        app = self._apps.get(first)
        if app is not None:
            await app(scope, receive, send)
            return
        body = json.dumps(
            {
                "code": "NOT_FOUND",
                "message": f"No API at {scope['path']!r}; usagemock serves "
                + ", ".join(f"/{name}/ (docs at /{name}/ui/)" for name in self._apps),
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 404,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    async def _lifespan(receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
