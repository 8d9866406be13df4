"""A short way through connexion for the documented body-less GETs, with connexion's own parts.

connexion spends most of a request's CPU around the handler: two routers (Swagger UI's and its
own), one middleware per concern, each looking the operation up again, and a handler decorator
chain rebuilt on every request (issue 15's profile). :class:`FastGets` sits in the ``AsyncApp``
``middlewares`` list, after the exception middleware and before everything else, and for a
request that is a GET of a documented operation without a request body, with no query string,
runs the same steps with the same objects, built once per operation instead of once per request:

* routing: a starlette ``Route`` on the path connexion routes it by (``starlettify_path``);
* security: the operation's ``SecurityOperation.verification_fn`` from our ``security_map``;
* validation: the API's parameter validator (``web/oas31.py``), on the same scope;
* the handler, with the arguments connexion gives it (``_get_path_arguments`` and the context
  security filled), in connexion's context;
* the response: connexion's ``AsyncResponseDecorator.build_framework_response``.

Anything that would not reach the handler on connexion's full path (a failed check, a query
string, another method, any other path) is handed to that full path untouched, so every error
is connexion's own answer; an exception from the handler leaves through the exception
middleware, as on the full path. With ``validate_responses`` on, the fast path is off: every
response then goes through connexion's response validation. ``tests/web/test_fastpath.py``
holds both ways to identical answers (status, headers, body bytes).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from connexion.context import _context, _operation, _receive, _scope
from connexion.decorators.parameter import (
    CONTEXT_NAME,
    _get_path_arguments,
    pythonic,
    sanitized,
    unwrap_decorators,
)
from connexion.decorators.response import AsyncResponseDecorator
from connexion.frameworks.starlette import Starlette as StarletteFramework
from connexion.frameworks.starlette import starlettify_path
from connexion.jsonifier import Jsonifier
from connexion.lifecycle import ConnexionRequest
from connexion.middleware.abstract import SpecMiddleware
from connexion.middleware.security import SecurityOperation
from connexion.operations import AbstractOperation
from connexion.security import SecurityHandlerFactory
from connexion.spec import Specification
from connexion.utils import inspect_function_arguments
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

#: The connexion context key under which a scope carries what security found (``token_info``).
_CONTEXT = "connexion_context"
#: What connexion's security puts into that context, and hands to handlers that name it.
_CONTEXT_KEYS = ("user", "token_info")


@dataclass(frozen=True)
class _FastOperation:
    """One documented body-less GET, with the connexion parts its requests go through."""

    route: Route
    operation: AbstractOperation
    verify: Callable[[ConnexionRequest], Any]
    validator: Any
    handler: Callable[..., Any]
    arguments: list[str]
    sanitize: Callable[[str], str]
    responder: _Responder


class _Responder(AsyncResponseDecorator):  # type: ignore[misc]
    """connexion's response building, with the operation's content types looked up once."""

    def __init__(self, produces: list[str], jsonifier: Jsonifier) -> None:
        super().__init__(framework=StarletteFramework, jsonifier=jsonifier)
        self._produces = frozenset(produces)

    def _infer_content_type(self, data: Any, headers: Any) -> str | None:
        """The Content-Type the handler set, when the operation declares it; else connexion's.

        connexion's own reading of the headers builds typing generics on every call (a fifth
        of the response's cost); the answer is the same whenever this shortcut answers.
        """
        if isinstance(headers, dict):
            for name, value in headers.items():
                if name.lower() == "content-type":
                    if isinstance(value, str) and value in self._produces:
                        return value
                    break
        inferred: str | None = super()._infer_content_type(data, headers)
        return inferred


class FastGets(SpecMiddleware):  # type: ignore[misc]
    """connexion middleware: serve documented body-less GETs without the rest of the stack."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._operations: list[_FastOperation] = []

    def add_api(
        self,
        specification: Specification,
        *,
        base_path: str | None = None,
        **options: Any,
    ) -> None:
        """Register the API's body-less GETs (connexion calls this once per ``add_api``)."""
        if options.get("validate_responses") or options.get("strict_validation"):
            return  # checks the short way does not make: every request takes the full path
        base = specification.base_path if base_path is None else base_path
        factory = SecurityHandlerFactory(options.get("security_map"))
        jsonifier = options.get("jsonifier") or Jsonifier()
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
            fast = _fast_operation(operation, base, path, factory, jsonifier, options)
            if fast is not None:
                self._operations.append(fast)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request the short way when it qualifies; else pass it on unchanged."""
        if scope["type"] == "http" and scope["method"] == "GET" and not scope["query_string"]:
            for fast in self._operations:
                match, child = fast.route.matches(scope)
                if match is Match.FULL:
                    if await _serve(fast, {**scope, **child}, receive, send):
                        return
                    break
        await self.app(scope, receive, send)


def _fast_operation(
    operation: AbstractOperation,
    base: str,
    path: str,
    factory: SecurityHandlerFactory,
    jsonifier: Jsonifier,
    options: Mapping[str, Any],
) -> _FastOperation | None:
    """The short way for ``operation``, or None when it must always take the full path.

    That is an operation with a request body or query parameters, whose handler is not a
    coroutine function (connexion runs those in a thread pool), or takes an argument other
    than path parameters and what security found.
    """
    handler = operation.function
    takes_query = any(p["in"] == "query" for p in operation.parameters)
    if operation.request_body or takes_query or not asyncio.iscoroutinefunction(handler):
        return None
    sanitize = pythonic if options.get("pythonic_params") else sanitized
    arguments, has_kwargs = inspect_function_arguments(unwrap_decorators(handler))
    path_names = {sanitize(p["name"]) for p in operation.parameters if p["in"] == "path"}
    if has_kwargs or set(arguments) - path_names - {*_CONTEXT_KEYS, CONTEXT_NAME}:
        return None  # an argument connexion fills from elsewhere (a body, a default)
    types = operation.get_path_parameter_types()
    route = Route(base + starlettify_path(path, types), handler, methods=["GET"])
    security = SecurityOperation.from_operation(
        operation, next_app=None, security_handler_factory=factory
    )
    uri_parser = operation.uri_parser_class(operation.parameters, operation.body_definition())
    validator = options["validator_map"]["parameter"](
        operation.parameters, uri_parser=uri_parser, strict_validation=False
    )
    responder = _Responder(operation.produces, jsonifier)
    return _FastOperation(
        route,
        operation,
        security.verification_fn,
        validator,
        handler,
        arguments,
        sanitize,
        responder,
    )


async def _serve(fast: _FastOperation, scope: Scope, receive: Receive, send: Send) -> bool:
    """Answer the request the short way; False (nothing sent, nothing run) if it does not pass.

    Security and validation have no side effects, so a request that fails either goes the full
    way and gets connexion's own error answer.
    """
    extensions = scope["extensions"] = {**scope.get("extensions", {})}
    context = extensions[_CONTEXT] = {**extensions.get(_CONTEXT, {})}
    request = ConnexionRequest(scope, uri_parser=fast.validator.uri_parser)
    try:
        if fast.operation.security:
            await fast.verify(request)  # puts token_info into the context, as on the full path
        fast.validator.validate_request(request)  # what validate(scope) does, on this request
    except Exception:  # the full path raises it again and answers it the documented way
        return False
    _context.set(context)
    _operation.set(fast.operation)
    _receive.set(receive)
    _scope.set(scope)
    # what connexion's prep_kwargs gives a handler that takes only path parameters and context
    kwargs = _get_path_arguments(
        request.path_params, operation=fast.operation, sanitize=fast.sanitize
    )
    kwargs.update((key, value) for key, value in context.items() if key in fast.arguments)
    if CONTEXT_NAME in fast.arguments:
        kwargs[CONTEXT_NAME] = context
    response = fast.responder.build_framework_response(await fast.handler(**kwargs))
    await response(scope, receive, send)
    return True
