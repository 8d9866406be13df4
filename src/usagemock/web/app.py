"""Compose the mock: one connexion AsyncApp per API plus the admin API, over one engine."""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from connexion import AsyncApp
from connexion.options import SwaggerUIOptions
from connexion.resolver import Resolver
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from usagemock.access import OPEN, AccessPolicy, load_access
from usagemock.apis import definition, facts, names
from usagemock.engine import Engine, OrgFixture, real_time
from usagemock.error_bodies import Renderer, code_and_message, problem_details
from usagemock.errors import ConfigError
from usagemock.scenarios import Scenario, with_user_scenarios
from usagemock.settings import Settings
from usagemock.specs import (
    AUTH_MODE_HEADER,
    declared_operations,
    documented_statuses,
    named_examples,
    spec_path,
)
from usagemock.store import Store, open_store
from usagemock.web.admin import admin_operations
from usagemock.web.admin_spec import admin_document
from usagemock.web.auth import bearer_handler, gate_checked_bearer
from usagemock.web.cors import OpenCORS
from usagemock.web.errors import install_error_handlers, send_error
from usagemock.web.fastpath import FastGets
from usagemock.web.gate import PREFIX, AdminGate, is_docs
from usagemock.web.handlers import MockContext, operations
from usagemock.web.oas31 import add_after_errors, add_api
from usagemock.web.origins import AdminOrigins
from usagemock.web.panel import Panel
from usagemock.web.paths import KeepEncodedSlashes
from usagemock.web.requests import LogRequests, RequestLog


def create_app(
    settings: Settings,
    *,
    real_clock: Callable[[], datetime] = real_time,
    fast_gets: bool = True,
) -> ASGIApp:
    """The ASGI app ``usagemock serve`` runs: the APIs in ``settings.apis`` and the admin API.

    ``real_clock`` is the machine's time; the mock's clock is stored state on top of it.
    ``fast_gets`` False sends every request through connexion's full path, the reference
    ``web/fastpath.py`` is tested against.
    """
    policy = load_access(settings.fixtures) if settings.fixtures else OPEN
    scenarios = with_user_scenarios(settings.scenarios)
    statuses = {api: documented_statuses(facts(api).document()) for api in names()}
    _check_names(settings, policy, scenarios)
    _check_faults(scenarios, statuses)
    store = open_store(settings.state, seed=settings.seed)
    engine = Engine(
        store,
        scenarios,
        seed=settings.seed,
        default_scenario=settings.scenario,
        fixtures={
            org: OrgFixture(name, scenario)
            for org, (name, scenario) in policy.org_settings().items()
        },
        real_clock=real_clock,
    )
    if settings.now is not None:
        engine.set_now(settings.now, frozen=True)
    ctx = MockContext(
        engine=engine,
        policy=policy,
        statuses=statuses,
        examples={api: named_examples(facts(api).document()) for api in names()},
        rng=random.Random(settings.seed),
        check_rules=settings.validate_responses,
    )
    log = RequestLog()
    admin_api = _connexion_app(
        "admin",
        admin_document(),
        admin_operations(ctx),
        problem_details,  # the admin API speaks RFC 9457
        settings,
        PREFIX,
        security_map={"bearer": gate_checked_bearer()},
    )
    gate = AdminGate(
        Panel(
            admin_api,
            ctx,
            log,
            apis=settings.apis,
            token_needed=settings.admin_token is not None,
        ),
        settings.admin_token,
        loopback=settings.loopback,
    )
    admin = AdminOrigins(gate, settings.admin_cors, loopback=settings.loopback, docs=is_docs)
    if settings.api == "all":
        apis = {
            api: LogRequests(
                OpenCORS(api_app(api, ctx, settings, f"/{api}", fast_gets=fast_gets)),
                api,
                log,
                real_clock,
                base_path=f"/{api}",
            )
            for api in settings.apis
        }
        app: ASGIApp = PrefixRouter({**apis, PREFIX[1:]: admin}, store=store)
    else:
        public = LogRequests(
            OpenCORS(api_app(settings.api, ctx, settings, "", fast_gets=fast_gets)),
            settings.api,
            log,
            real_clock,
            base_path="",
        )
        app = PrefixRouter({PREFIX[1:]: admin}, fallback=public, store=store)
    return KeepEncodedSlashes(StateAuthMode(app, "open" if policy is OPEN else "fixtures"))


def _check_names(settings: Settings, policy: AccessPolicy, scenarios: Mapping[str, Any]) -> None:
    """Refuse to start with a scenario name nothing defines."""
    named = policy.scenario_names() | ({settings.scenario} if settings.scenario else set())
    missing = sorted(named - set(scenarios))
    if missing:
        where = " and ".join(
            filter(
                None,
                [
                    f"--scenario {settings.scenario}" if settings.scenario in missing else "",
                    str(settings.fixtures) if set(missing) - {settings.scenario} else "",
                ],
            )
        )
        raise ConfigError(
            f"{where} names no loaded scenario: {', '.join(missing)}. Loaded: "
            f"{', '.join(sorted(scenarios))}."
        )


def _check_faults(
    scenarios: Mapping[str, Scenario], statuses: Mapping[str, frozenset[int]]
) -> None:
    """Refuse scenarios whose injected status the API does not document."""
    for scenario in scenarios.values():
        for api, section in scenario.sections.items():
            status = section.get("fault", {}).get("status")
            if status is not None and status not in statuses[api]:
                documented = ", ".join(str(s) for s in sorted(statuses[api]) if s >= 400)
                raise ConfigError(
                    f"{scenario.source}: {api}.fault.status {status} is not "
                    f"documented by the {api} API; use one of {documented}."
                )


def _check_operation(api: str, document: Mapping[str, Any]) -> None:
    """Refuse a spec that is not the definition's one operation, or lacks its org parameter.

    connexion resolves handlers at the first request, and the handler reads the org parameter
    from each request: either mistake would be a 500 to every request instead of one line now.
    """
    served, declared = definition(api).operation_id, declared_operations(document)
    if [operation_id for operation_id, _ in declared] != [served]:
        found = ", ".join(
            f"{operation_id or 'no operationId'} at {path}" for operation_id, path in declared
        )
        raise ConfigError(
            f"The {api} definition serves one operation, operationId {served!r}; "
            f"{facts(api).spec} declares {found or 'none'}. Make the spec declare just that one."
        )
    org_param, path = facts(api).org_param, declared[0][1]
    if org_param is not None and f"{{{org_param}}}" not in path:
        raise ConfigError(
            f"The {api} facts read the org from path parameter {org_param!r}, which {path} does "
            "not have; name its org parameter, or None when the token's org is the one read."
        )


def api_app(
    api: str, ctx: MockContext, settings: Settings, base_path: str, *, fast_gets: bool = True
) -> AsyncApp:
    """One API's connexion app, serving its 3.1 spec with Swagger UI at ``<base>/ui/``."""
    document = facts(api).document()
    _check_operation(api, document)
    return _connexion_app(
        api,
        document,
        operations(api, ctx),
        definition(api).error_body,
        settings,
        base_path,
        # tests/test_specs.py lints the bundled specs, so start-up need not; any other is checked
        trusted=facts(api).spec.parent == spec_path("admin").parent,
        security_map={"bearer": bearer_handler(ctx.policy)},
        fast_gets=fast_gets,
    )


def _connexion_app(
    name: str,
    document: Mapping[str, Any],
    handlers: Mapping[str, Callable[..., Any]],
    render_error: Renderer,
    settings: Settings,
    base_path: str,
    *,
    trusted: bool = True,
    fast_gets: bool = False,
    **options: Any,
) -> AsyncApp:
    app = AsyncApp(__name__)
    if fast_gets:  # after the exception middleware, so the handler's errors leave the usual way
        add_after_errors(app, FastGets)
    add_api(
        app,
        document,  # parsed once per process (specs.load_cached caches it)
        base_path=base_path,
        name=name,
        trusted=trusted,
        resolver=Resolver(function_resolver=lambda operation_id: handlers[operation_id]),
        validate_responses=settings.validate_responses,
        swagger_ui_options=SwaggerUIOptions(swagger_ui_path="/ui"),
        **options,
    )
    install_error_handlers(app, name, render_error)
    return app


class StateAuthMode:
    """Say on every response which tokens work here (``AUTH_MODE_HEADER``: open or fixtures)."""

    def __init__(self, app: ASGIApp, mode: str) -> None:
        self._app = app
        self._header = (AUTH_MODE_HEADER.lower().encode(), mode.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; add the header to the response's start."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def send_stating_mode(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", ()), self._header]}
            await send(message)

        await self._app(scope, receive, send_stating_mode)


class PrefixRouter:
    """Send ``/<prefix>/...`` to that app, anything else to ``fallback`` or a JSON 404.

    The ASGI lifespan opens ``store``'s connections at start-up and closes them at shutdown.
    """

    def __init__(
        self,
        apps: Mapping[str, ASGIApp],
        fallback: ASGIApp | None = None,
        *,
        store: Store | None = None,
    ) -> None:
        self._apps = dict(apps)
        self._fallback = fallback
        self._store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Route one ASGI connection by its first path segment."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        # "*" (as in ``OPTIONS *``) is a request target but no path: it names no app of ours
        first = scope["path"].split("/", 2)[1] if scope["path"].startswith("/") else ""
        app = self._apps.get(first, self._fallback)
        if app is not None:
            await app(scope, receive, send)
            return
        served = ", ".join(f"/{name}/ (docs at /{name}/ui/)" for name in self._apps)
        detail = f"No API at {scope['path']!r}; usagemock serves {served}"
        await send_error(send, 404, detail, code_and_message)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                if self._store is not None:
                    self._store.open()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._store is not None:
                    self._store.close()
                await send({"type": "lifespan.shutdown.complete"})
                return
