"""A short way through connexion for the documented body-less GETs, with connexion's own parts.

connexion spends most of a request's CPU around the handler: two routers (Swagger UI's and its
own), one middleware per concern, each looking the operation up again, and a handler decorator
chain rebuilt on every request (issue 15's profile). :class:`FastGets` sits in the ``AsyncApp``
middleware list right after the exception middleware and, for a GET of a documented operation
without a request body or query parameters, sent without a query string, runs the same steps
with the same objects, built once per operation (``web/oas31.py``'s :class:`OperationParts`):

* routing: a starlette ``Route`` on the path connexion routes the operation by;
* security: the operation's security check, from the API's ``security_map``;
* validation: the API's parameter validator, on the same request;
* the handler, in connexion's context, with the arguments connexion would give it;
* the response: connexion's response building.

A request that would not reach the handler on connexion's full path (a failed check, a query
string, another method, any other path) is handed to that full path untouched, so every error
is connexion's own answer; an exception from the handler leaves through the exception
middleware, as on the full path. With ``validate_responses`` (or ``strict_validation``) on, the
short way is off: every response then goes through connexion's response validation.
``tests/web/test_fastpath.py`` holds both ways to identical answers (status, headers, body).
"""

from __future__ import annotations

from typing import Any

from connexion.security import SecurityHandlerFactory
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from usagemock.web.oas31 import OperationParts, SpecMiddleware

#: The scope extension in which connexion keeps a request's context (what security found).
_CONTEXT = "connexion_context"


class FastGets(SpecMiddleware):  # type: ignore[misc]
    """connexion middleware: serve documented body-less GETs without the rest of the stack."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._routes: list[tuple[Route, OperationParts]] = []

    def add_api(self, specification: Any, *, base_path: str | None = None, **options: Any) -> None:
        """Register the API's body-less GETs (connexion calls this once per ``add_api``)."""
        if options.get("validate_responses") or options.get("strict_validation"):
            return  # checks the short way does not make: every request takes the full path
        base = specification.base_path if base_path is None else base_path
        factory = SecurityHandlerFactory(options.get("security_map"))
        for path, methods in specification.get("paths", {}).items():
            if "get" not in methods:
                continue
            operation = specification.operation_cls.from_spec(
                specification,
                path=path,
                method="get",
                resolver=options["resolver"],
                uri_parser_class=options.get("uri_parser_class"),
            )
            parts = OperationParts(operation, factory, options)
            if parts.takes_only_path_and_context():
                route = Route(base + parts.route_path, parts.handler, methods=["GET"])
                self._routes.append((route, parts))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request the short way when it qualifies; else pass it on unchanged."""
        if scope["type"] == "http" and scope["method"] == "GET" and not scope["query_string"]:
            for route, parts in self._routes:
                match, child = route.matches(scope)
                if match is Match.FULL:
                    if await _serve(parts, {**scope, **child}, receive, send):
                        return
                    break
        await self.app(scope, receive, send)


async def _serve(parts: OperationParts, scope: Scope, receive: Receive, send: Send) -> bool:
    """Answer the request the short way; False (nothing sent, nothing run) if it does not pass.

    Security and validation have no side effects, so a request that fails either goes the full
    way and gets connexion's own error answer.
    """
    extensions = scope["extensions"] = {**scope.get("extensions", {})}
    extensions[_CONTEXT] = {**extensions.get(_CONTEXT, {})}  # the full path's stays untouched
    request = parts.request(scope)
    try:
        await parts.check(request)
    except Exception:  # the full path raises it again and answers it the documented way
        return False
    parts.enter(scope, receive)
    response = parts.respond(await parts.handler(**parts.arguments(request)))
    await response(scope, receive, send)
    return True
