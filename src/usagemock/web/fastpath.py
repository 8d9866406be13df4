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

Routing, security and validation depend only on the request's path, root path and headers
(security only when it is the APIs' bearer check, a function of the Authorization header), so
what they decided is remembered per path, root path and header list: a client repeating a
request (a load test, a polling page) skips them. Nothing the handler reads is remembered; state
is read afresh.

A request that would not reach the handler on connexion's full path (a failed check, a query
string, another method, any other path) is handed to that full path untouched, so every error
is connexion's own answer; an exception from the handler leaves through the exception
middleware, as on the full path. With ``validate_responses`` (or ``strict_validation``) on, the
short way is off: every response then goes through connexion's response validation.
``tests/web/test_fastpath.py`` holds both ways to identical answers (status, headers, body).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from connexion.security import SecurityHandlerFactory
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from usagemock.web.oas31 import OperationParts, SpecMiddleware

#: The scope extension in which connexion keeps a request's context (what security found).
_CONTEXT = "connexion_context"
#: Request heads remembered at most, and their bytes (path and headers) at most; past either the
#: memory starts again. Without the bytes, heads a client never repeats (a header unique to each
#: request) could hold 4096 times the largest head uvicorn accepts.
MAX_REMEMBERED = 4096
MAX_REMEMBERED_BYTES = 4 << 20

#: A request head: its path, root path (routing reads both) and headers, as the scope has them.
Head = tuple[str, str, tuple[tuple[bytes, bytes], ...]]


@dataclass(frozen=True)
class Passed:
    """What routing and the checks decided for a request head that may take the short way."""

    parts: OperationParts
    matched: Scope
    """What the route adds to the scope (``path_params``, ``endpoint``)."""
    context: dict[str, Any]
    """What security put into connexion's context (``token_info``, ``user``)."""
    arguments: dict[str, Any]
    """The handler's keyword arguments."""


class FastGets(SpecMiddleware):  # type: ignore[misc]
    """connexion middleware: serve documented body-less GETs without the rest of the stack."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._routes: list[tuple[Route, OperationParts]] = []
        self._heads: dict[Head, Passed | None] = {}  # None: the head takes the full path
        self._bytes = 0  # of the heads remembered

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
            path, root_path = scope["path"], scope.get("root_path", "")
            head: Head = (path, root_path, tuple(scope["headers"]))
            try:
                passed = self._heads.get(head, _UNSEEN)
            except TypeError:  # pairs as lists (ASGI allows any two-item iterable): as tuples
                head = (path, root_path, tuple(map(tuple, scope["headers"])))
                passed = self._heads.get(head, _UNSEEN)
            if passed is _UNSEEN:
                passed = await self._check(scope, head)
            if passed is not None:
                await _serve(passed, scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _check(self, scope: Scope, head: Head) -> Passed | None:
        """Route and check a request head; None (nothing run) if it takes the full path.

        Security and validation have no side effects, so a request that fails either goes the
        full way and gets connexion's own error answer.
        """
        for route, parts in self._routes:
            match, matched = route.matches(scope)
            if match is Match.FULL:
                context: dict[str, Any] = {}
                request = parts.request({**scope, **matched, "extensions": {_CONTEXT: context}})
                try:
                    await parts.check(request)
                except Exception:  # the full path raises it again and answers it its way
                    break
                passed = Passed(parts, matched, context, parts.arguments(request))
                return self._remember(head, passed) if parts.check_is_pure else passed
        return self._remember(head, None)

    def _remember(self, head: Head, passed: Passed | None) -> Passed | None:
        path, root_path, headers = head
        size = len(path) + len(root_path) + sum(len(name) + len(value) for name, value in headers)
        if len(self._heads) >= MAX_REMEMBERED or self._bytes + size > MAX_REMEMBERED_BYTES:
            self._heads.clear()
            self._bytes = 0
        self._heads[head] = passed
        self._bytes += size
        return passed


_UNSEEN: Any = object()


async def _serve(passed: Passed, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer a request whose head passed, as connexion's full path would from here."""
    scope = {**scope, **passed.matched}
    extensions = scope["extensions"] = {**scope.get("extensions", {})}
    extensions[_CONTEXT] = {**extensions.get(_CONTEXT, {}), **passed.context}
    parts = passed.parts
    parts.enter(scope, receive)
    response = parts.respond(await parts.handler(**passed.arguments))
    await response(scope, receive, send)
