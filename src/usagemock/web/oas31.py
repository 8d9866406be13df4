"""Make connexion 3.3 load OpenAPI 3.1 documents and validate with JSON Schema 2020-12.

connexion 3.3 rejects 3.1 documents (spec-first/connexion#1396): it checks them against the 3.0
meta-schema and validates every request and response with Draft 4. This adapter swaps in, without
touching the document:

* a ``Specification`` that checks the document with openapi-spec-validator's 3.1 validator;
* body, form, parameter and response validators built on ``Draft202012Validator`` with format
  checks (``date-time``, ``email``, ``uuid``...), compiled once per schema, not per request;
* a URI parser that coerces query, path and header strings when ``type`` is an array such as
  ``["integer", "null"]`` or is absent (``oneOf``), where connexion expects one type name;
* an ``Operation`` whose parameters show connexion's router and handler-argument casting one
  type name (or none to cast to), while the parameter validator still checks the original schema.

It also holds the other places where the mock leans on connexion's inner workings: the
bearer security handler the APIs' auth plugs in (:func:`bearer_security`), the ``path``
route convertor connexion's mounts use (:class:`AnyPathConvertor`), and the parts of an
operation the short way for body-less GETs (web/fastpath.py) reuses (:class:`OperationParts`).

This is the only module that uses connexion internals, which is why pyproject pins connexion to
3.3.x. Each is listed here and in :data:`INTERNALS`; tests/web/test_connexion_internals.py
fails, naming the one that went, when an upgrade drops one, and tests/web/test_oas31.py pins the
behaviour. The internals relied on:

* ``connexion.middleware.main.ConnexionMiddleware.apis``: :func:`add_api` appends the API.
* ``connexion.middleware.main.ConnexionMiddleware.middleware_stack``: None until the app starts.
* ``connexion.middleware.main.ConnexionMiddleware.options``: the app's options, to merge into.
* ``connexion.middleware.main._Options.replace``: merges options, as ``AsyncApp.add_api`` does.
* ``connexion.middleware.main.API``: one registered API, as ``AsyncApp.add_api`` makes it.
* ``connexion.spec.OpenAPISpecification._validate_spec``: the 3.0 check, replaced by the 3.1 one.
* ``connexion.spec.OpenAPISpecification.operation_cls``: makes our operations.
* ``connexion.operations.OpenAPIOperation._parameters``: the parameters, given one-type views.
* ``connexion.operations.OpenAPIOperation.get_path_parameter_types``: route converters.
* ``connexion.uri_parsing.OpenAPIURIParser.__init__``: takes ``(param_defns, body_defn)``.
* ``connexion.utils.coerce_type``: coerces a header as the URI parser does a query value.
* ``connexion.validators.AbstractRequestBodyValidator._schema``: the body's schema.
* ``connexion.validators.AbstractRequestBodyValidator._nullable``: whether a body may be null.
* ``connexion.validators.JSONRequestBodyValidator._parse``: reads the body (errors widened).
* ``connexion.validators.JSONRequestBodyValidator._validate``: validates it (with 2020-12).
* ``connexion.validators.FormDataValidator._validator``: the form validator (2020-12).
* ``connexion.validators.MultiPartFormDataValidator._validator``: likewise, multipart.
* ``connexion.validators.JSONResponseBodyValidator.validator``: the response validator.
* ``connexion.validators.JSONResponseBodyValidator._validate``: validates a response body.
* ``connexion.validators.ParameterValidator.validate_parameter``: validates one parameter.
* ``connexion.validators.ParameterValidator.validate_header_parameter``: one header.
* ``connexion.security.BearerSecurityHandler._resolve_func``: the token check to call.
* ``connexion.security.BearerSecurityHandler.get_auth_header_value``: reads the header.
* ``connexion.security.BearerSecurityHandler._accepts_kwarg``: remembered (see the handler).
* ``starlette.convertors.PathConvertor``: the ``{path:path}`` convertor of connexion's mounts,
  replaced process-wide with :class:`AnyPathConvertor` (a monkey patch).

and, for the short way of body-less GETs (:class:`OperationParts`, used by web/fastpath.py):

* ``connexion.middleware.abstract.SpecMiddleware``: a middleware connexion hands each API to.
* ``connexion.middleware.MiddlewarePosition``: where :func:`add_after_errors` inserts one.
* ``connexion.middleware.security.SecurityOperation.from_operation``: an operation's security.
* ``connexion.middleware.security.SecurityOperation.verification_fn``: its check.
* ``connexion.security.SecurityHandlerFactory.security_handlers``: which handler checks bearer.
* ``connexion.validators.ParameterValidator.validate_request``: validates a built request.
* ``connexion.validators.ParameterValidator.uri_parser``: the parser it reads parameters with.
* ``connexion.utils.inspect_function_arguments``: the handler's argument names.
* ``connexion.decorators.parameter.unwrap_decorators``: the handler under its decorators.
* ``connexion.decorators.parameter._get_path_arguments``: the handler's path arguments.
* ``connexion.decorators.parameter.CONTEXT_NAME``: the argument that takes the whole context.
* ``connexion.decorators.parameter.sanitized``: argument names, as connexion makes them.
* ``connexion.decorators.parameter.pythonic``: the same with ``pythonic_params``.
* ``connexion.decorators.response.AsyncResponseDecorator.build_framework_response``: the
  response from what the handler returned.
* ``connexion.decorators.response.AsyncResponseDecorator._infer_content_type``: its content
  type, answered first from the content types looked up once.
* ``connexion.frameworks.starlette.Starlette``: the framework that response is built for.
* ``connexion.frameworks.starlette.starlettify_path``: the path connexion routes an operation by.
* ``connexion.context._context``: the request's context, which handlers read.
* ``connexion.context._operation``: the operation, which response building reads.
* ``connexion.context._receive``: the request's receive channel.
* ``connexion.context._scope``: the request's scope, which handlers read.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import starlette.convertors
from connexion import AsyncApp
from connexion.context import _context, _operation, _receive, _scope
from connexion.datastructures import MediaTypeDict
from connexion.decorators.parameter import (
    CONTEXT_NAME,
    _get_path_arguments,
    pythonic,
    sanitized,
    unwrap_decorators,
)
from connexion.decorators.response import AsyncResponseDecorator
from connexion.exceptions import BadRequestProblem, NonConformingResponseBody, TypeValidationError
from connexion.frameworks.starlette import Starlette as StarletteFramework
from connexion.frameworks.starlette import starlettify_path
from connexion.jsonifier import Jsonifier
from connexion.lifecycle import ConnexionRequest
from connexion.middleware import MiddlewarePosition
from connexion.middleware.abstract import SpecMiddleware as SpecMiddleware  # web/fastpath.py's base
from connexion.middleware.main import API
from connexion.middleware.security import SecurityOperation
from connexion.operations import OpenAPIOperation
from connexion.security import BearerSecurityHandler, SecurityHandlerFactory
from connexion.spec import OpenAPISpecification
from connexion.uri_parsing import OpenAPIURIParser
from connexion.utils import (
    coerce_type,
    inspect_function_arguments,
    is_json_mimetype,
    split_content_type,
)
from connexion.validators import (
    FormDataValidator,
    JSONRequestBodyValidator,
    JSONResponseBodyValidator,
    MultiPartFormDataValidator,
    ParameterValidator,
    TextResponseBodyValidator,
)
from jsonschema import Draft202012Validator, ValidationError
from jsonschema.validators import extend
from starlette.responses import Response as StarletteResponse
from starlette.types import Receive, Scope

from usagemock.errors import SpecError
from usagemock.specs import lint, load_document


@dataclass(frozen=True)
class Internal:
    """A connexion (or starlette) name this module relies on though no documented API offers it."""

    owner: str
    """The module or class that has it, dotted (``connexion.spec.OpenAPISpecification``)."""
    name: str
    set_in_init: bool = False
    """Whether it is an instance attribute the owner's ``__init__`` sets (not on the class)."""

    @property
    def dotted(self) -> str:
        """``owner.name``, as the module docstring lists it."""
        return f"{self.owner}.{self.name}"


_MIDDLEWARE = "connexion.middleware.main.ConnexionMiddleware"
_SPEC = "connexion.spec.OpenAPISpecification"
_OPERATION = "connexion.operations.OpenAPIOperation"
_BODY = "connexion.validators.AbstractRequestBodyValidator"
_JSON_BODY = "connexion.validators.JSONRequestBodyValidator"
_JSON_RESPONSE = "connexion.validators.JSONResponseBodyValidator"
_PARAMETERS = "connexion.validators.ParameterValidator"
_BEARER = "connexion.security.BearerSecurityHandler"
_SECURITY_OPERATION = "connexion.middleware.security.SecurityOperation"
_PARAMETER_DECORATOR = "connexion.decorators.parameter"
_RESPONSE_DECORATOR = "connexion.decorators.response.AsyncResponseDecorator"

INTERNALS = (
    Internal(_MIDDLEWARE, "apis", set_in_init=True),
    Internal(_MIDDLEWARE, "middleware_stack", set_in_init=True),
    Internal(_MIDDLEWARE, "options", set_in_init=True),
    Internal("connexion.middleware.main._Options", "replace"),
    Internal("connexion.middleware.main", "API"),
    Internal(_SPEC, "_validate_spec"),
    Internal(_SPEC, "operation_cls"),
    Internal(_OPERATION, "_parameters", set_in_init=True),
    Internal(_OPERATION, "get_path_parameter_types"),
    Internal("connexion.uri_parsing.OpenAPIURIParser", "__init__"),
    Internal("connexion.utils", "coerce_type"),
    Internal(_BODY, "_schema", set_in_init=True),
    Internal(_BODY, "_nullable", set_in_init=True),
    Internal(_JSON_BODY, "_parse"),
    Internal(_JSON_BODY, "_validate"),
    Internal("connexion.validators.FormDataValidator", "_validator"),
    Internal("connexion.validators.MultiPartFormDataValidator", "_validator"),
    Internal(_JSON_RESPONSE, "validator"),
    Internal(_JSON_RESPONSE, "_validate"),
    Internal(_PARAMETERS, "validate_parameter"),
    Internal(_PARAMETERS, "validate_header_parameter"),
    Internal(_BEARER, "_resolve_func"),
    Internal(_BEARER, "get_auth_header_value"),
    Internal(_BEARER, "_accepts_kwarg"),
    Internal("starlette.convertors", "PathConvertor"),
    Internal("connexion.middleware.abstract", "SpecMiddleware"),
    Internal("connexion.middleware", "MiddlewarePosition"),
    Internal(_SECURITY_OPERATION, "from_operation"),
    Internal(_SECURITY_OPERATION, "verification_fn", set_in_init=True),
    Internal("connexion.security.SecurityHandlerFactory", "security_handlers", set_in_init=True),
    Internal(_PARAMETERS, "validate_request"),
    Internal(_PARAMETERS, "uri_parser", set_in_init=True),
    Internal("connexion.utils", "inspect_function_arguments"),
    Internal(_PARAMETER_DECORATOR, "unwrap_decorators"),
    Internal(_PARAMETER_DECORATOR, "_get_path_arguments"),
    Internal(_PARAMETER_DECORATOR, "CONTEXT_NAME"),
    Internal(_PARAMETER_DECORATOR, "sanitized"),
    Internal(_PARAMETER_DECORATOR, "pythonic"),
    Internal(_RESPONSE_DECORATOR, "build_framework_response"),
    Internal(_RESPONSE_DECORATOR, "_infer_content_type"),
    Internal("connexion.frameworks.starlette", "Starlette"),
    Internal("connexion.frameworks.starlette", "starlettify_path"),
    Internal("connexion.context", "_context"),
    Internal("connexion.context", "_operation"),
    Internal("connexion.context", "_receive"),
    Internal("connexion.context", "_scope"),
)
"""Every connexion internal this module relies on (the module docstring says what for)."""


def _reject_write_only(
    validator: Any, write_only: bool, instance: Any, schema: Mapping[str, Any]
) -> Any:
    if write_only:
        yield ValidationError("Property is write-only and must not appear in a response")


#: Validates response bodies: 2020-12, plus OpenAPI's rule that writeOnly never goes out.
ResponseValidator = extend(Draft202012Validator, {"writeOnly": _reject_write_only})

_FORMATS = Draft202012Validator.FORMAT_CHECKER
_CACHE_SIZE = 1024
_compiled: OrderedDict[tuple[int, type], tuple[Any, Any]] = OrderedDict()


def compiled(schema: Any, validator_cls: type = Draft202012Validator) -> Any:
    """Return a validator for ``schema``, built once and reused while the schema object lives."""
    key = (id(schema), validator_cls)
    hit = _compiled.get(key)
    if hit is not None and hit[0] is schema:  # holding the schema keeps its id from being reused
        _compiled.move_to_end(key)
        return hit[1]
    validator = validator_cls(schema, format_checker=_FORMATS)
    _compiled[key] = (schema, validator)
    if len(_compiled) > _CACHE_SIZE:
        _compiled.popitem(last=False)
    return validator


def describe(error: ValidationError) -> str:
    """Say which field failed, why, and what it takes, without dumping the value or the schema."""
    error = _innermost(error)
    where = "/".join(str(part) for part in error.absolute_path)
    if error.validator in ("oneOf", "anyOf"):
        message = "matches none of the forms its schema allows"
    elif error.validator == "pattern":  # the regex says less than the schema's description
        message = f"{error.instance!r} is not in the form its schema allows"
    else:  # messages quote the value: a long one would bury the field name
        message = error.message if len(error.message) <= 160 else error.message[:157] + "..."
    text = f"{message} (at '{where}')" if where else message
    hint = error.schema.get("description") if isinstance(error.schema, dict) else None
    return f"{text}; expected: {' '.join(hint.split())}" if hint else text


def _innermost(error: ValidationError) -> ValidationError:
    """Inside ``oneOf``/``anyOf``, the error of the branch the value was meant for.

    A branch whose ``const`` or top-level ``type`` fails is another shape altogether (one API's
    record is no other API's record); of the rest, the one with the fewest errors is the closest.
    When no branch is closer than another, the error itself (and its description) says most.
    """

    def fit(errors: list[ValidationError]) -> tuple[bool, int]:
        other_shape = any(
            e.validator == "const" or (e.validator == "type" and not e.relative_path)
            for e in errors
        )
        return other_shape, len(errors)

    while error.context:
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0], []).append(sub)
        ranked = sorted(branches.values(), key=fit)
        if len(ranked) > 1 and fit(ranked[0]) == fit(ranked[1]):
            break
        error = max(ranked[0], key=lambda e: len(e.absolute_path))
    return error


class JSONBodyValidator(JSONRequestBodyValidator):  # type: ignore[misc]
    """JSON request bodies, validated with 2020-12."""

    async def _parse(self, stream: AsyncIterator[bytes], scope: Any) -> Any:
        # connexion catches only JSONDecodeError; bad UTF-8, an integer past Python's
        # 4,300-digit limit and very deep nesting raise other errors, which would be 500s.
        try:
            return await super()._parse(stream, scope)
        except (ValueError, RecursionError) as exc:
            problem = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
            raise BadRequestProblem(
                detail=f"Request body is not JSON usagemock can read: {problem}"
            ) from None

    def _validate(self, body: Any) -> Any:
        if not self._nullable and body is None:
            raise BadRequestProblem(detail="Request body must not be empty")
        error = next(compiled(self._schema).iter_errors(body), None)
        if error is not None:
            raise BadRequestProblem(detail=f"Request body: {describe(error)}")
        return body


class FormBodyValidator(FormDataValidator):  # type: ignore[misc]
    """URL-encoded form bodies, validated with 2020-12."""

    @property
    def _validator(self) -> Any:
        return compiled(self._schema)


class MultiPartBodyValidator(MultiPartFormDataValidator):  # type: ignore[misc]
    """Multipart form bodies, validated with 2020-12."""

    @property
    def _validator(self) -> Any:
        return compiled(self._schema)


class JSONResponseValidator(JSONResponseBodyValidator):  # type: ignore[misc]
    """JSON response bodies, validated with 2020-12 (writeOnly properties rejected)."""

    @property
    def validator(self) -> Any:
        """The compiled 2020-12 response validator for this schema."""
        return compiled(self._schema, ResponseValidator)

    def _validate(self, body: Any) -> None:
        error = next(self.validator.iter_errors(body), None)
        if error is not None:
            raise NonConformingResponseBody(
                detail=f"Response body does not conform to specification. {describe(error)}"
            )


class TextResponseValidator(TextResponseBodyValidator, JSONResponseValidator):  # type: ignore[misc]
    """Plain-text response bodies, validated with 2020-12."""


#: Where an operation's parameter keeps its original 3.1 schema once ``schema`` is the one-type
#: view connexion's router and argument casting need (an ``x-`` key, so connexion ignores it).
ORIGINAL_SCHEMA = "x-usagemock-original-schema"


#: Types whose equal values read the same in a message: not float (``-0.0 == 0.0``).
_REMEMBERED = frozenset({str, int, bool})
_problems: OrderedDict[tuple[int, type, Any], tuple[Any, str | None]] = OrderedDict()


def _problem(schema: Any, value: Any) -> str | None:
    """What is wrong with ``value`` under ``schema`` (:func:`describe`), or None.

    Remembered for strings, integers and booleans: a client asks for the same org id again
    and again, and running the validator was a tenth of a short-way request. Keyed by the
    value's type too (``1`` and ``True`` are equal keys otherwise); floats are not remembered,
    since equal ones can read differently in the message (``-0.0`` and ``0.0``). The schema is
    held, as in :func:`compiled`, so its id cannot be reused while remembered.
    """
    if type(value) not in _REMEMBERED:
        error = next(compiled(schema).iter_errors(value), None)
        return None if error is None else describe(error)
    key = (id(schema), type(value), value)
    hit = _problems.get(key)
    if hit is not None and hit[0] is schema:
        return hit[1]
    error = next(compiled(schema).iter_errors(value), None)
    _problems[key] = (schema, None if error is None else describe(error))
    if len(_problems) > _CACHE_SIZE * 4:
        _problems.popitem(last=False)
    return _problems[key][1]


class Parameter31Validator(ParameterValidator):  # type: ignore[misc]
    """Path, query, header and cookie parameters, validated with 2020-12."""

    @staticmethod
    def validate_parameter(
        parameter_type: str, value: Any, param: Mapping[str, Any], param_name: str | None = None
    ) -> str | None:
        """Validate one parameter's coerced value; return an error message or None."""
        if value is None:
            if param.get("required"):
                return f"Missing {parameter_type} parameter '{param['name']}'"
            return None
        schema = param.get(ORIGINAL_SCHEMA, param.get("schema", {}))
        problem = _problem(schema, value)
        if problem is None:
            return None
        return f"Invalid {parameter_type} parameter '{param['name']}': {problem}"

    def validate_header_parameter(self, param: Mapping[str, Any], request: Any) -> str | None:
        """Coerce a header from its one-type view, then validate it against the original schema."""
        # connexion's URI parser coerces only query and path values, so without this a header
        # "5" fails ``type: integer`` (or ``[integer, "null"]``) as a string.
        value = request.headers.get(param["name"])
        if value is not None:
            view = {"schema": coercion_view(param.get(ORIGINAL_SCHEMA, param.get("schema", {})))}
            # left as text when it will not coerce: the validator then names the wrong type
            with contextlib.suppress(TypeValidationError):
                value = coerce_type(view, value, "header", param["name"])
        return self.validate_parameter("header", value, param)


def coercion_view(schema: Any) -> Any:
    """Copy ``schema`` with one type name per level, as connexion's coercion expects.

    ``["integer", "null"]`` becomes ``integer``; a schema without ``type`` takes the type of its
    first ``oneOf``/``anyOf`` branch that has one, else ``string`` (which coerces nothing). Only
    coercion sees this view: validation always runs against the original schema.
    """
    if not isinstance(schema, Mapping):
        return schema
    view = dict(schema)
    declared = schema.get("type")
    if isinstance(declared, list):
        concrete = [name for name in declared if name != "null"]
        view["type"] = concrete[0] if concrete else "null"
    elif declared is None:
        branches = [coercion_view(b) for b in schema.get("oneOf", schema.get("anyOf", []))]
        view["type"] = next((b["type"] for b in branches if b.get("type") != "string"), "string")
    if isinstance(schema.get("items"), Mapping):
        view["items"] = coercion_view(schema["items"])
    if isinstance(schema.get("properties"), Mapping):
        view["properties"] = {k: coercion_view(v) for k, v in schema["properties"].items()}
    return view


#: What connexion's argument casting, ``TYPE_MAP[type](value)``, passes through untouched (it
#: takes string/binary for a file); used where no single type can be cast to.
_AS_IS = {"type": "string", "format": "binary"}


def casting_view(schema: Any) -> Any:
    """Copy ``schema`` as connexion's router and handler-argument casting read it.

    They recast values :class:`URIParser31` already coerced and the validator accepted, with one
    type name: ``["integer", "null"]`` reads ``integer`` (recasting 5 is harmless), while a
    ``oneOf`` or ``[integer, string]`` reads as :data:`_AS_IS`, since ``int("all")`` would be a 500.
    """
    if not isinstance(schema, Mapping):
        return schema
    declared = schema.get("type")
    names = [declared] if isinstance(declared, str) else [n for n in declared or [] if n != "null"]
    if len(names) != 1:
        return dict(_AS_IS)
    view = {**schema, "type": names[0]}
    if names[0] == "array":
        view["items"] = casting_view(schema.get("items", {}))
    return view


class OpenAPI31Operation(OpenAPIOperation):  # type: ignore[misc]
    """connexion's OpenAPI operation, with parameters its router and argument casting can read."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # connexion reads ``schema["type"]`` as one name when it routes (a list crashes startup)
        # and when it casts handler arguments (a list or a missing type answers 500); the
        # original schema rides along for Parameter31Validator and URIParser31.
        self._parameters: list[dict[str, Any]] = [
            {**p, "schema": casting_view(p["schema"]), ORIGINAL_SCHEMA: p["schema"]}
            if "schema" in p and ORIGINAL_SCHEMA not in p
            else p
            for p in self._parameters
        ]

    def get_path_parameter_types(self) -> dict[str, Any]:
        """Route path parameters as text (``format: path`` aside), for the validator to judge."""
        # connexion's int/float route converters answer a bare 404 to "x"; routed as text, the
        # URI parser coerces the value and the validator answers 400 naming the parameter.
        types: dict[str, Any] = super().get_path_parameter_types()
        return {name: kind for name, kind in types.items() if kind == "path"}


class OpenAPI31Specification(OpenAPISpecification):  # type: ignore[misc]
    """connexion's OpenAPI 3 specification, validated as OpenAPI 3.1 instead of 3.0."""

    operation_cls = OpenAPI31Operation

    @classmethod
    def _validate_spec(cls, spec: Mapping[str, Any]) -> None:
        problems = lint(spec)
        if problems:
            listed = "\n  ".join(str(problem) for problem in problems)
            raise SpecError(f"not a valid OpenAPI 3.1 document:\n  {listed}")


class URIParser31(OpenAPIURIParser):  # type: ignore[misc]
    """connexion's OpenAPI URI parser, coercing from 3.1 schemas via :func:`coercion_view`."""

    def __init__(self, param_defns: list[dict[str, Any]], body_defn: Mapping[str, Any]) -> None:
        params = [
            {**p, "schema": coercion_view(p.get(ORIGINAL_SCHEMA, p.get("schema", {})))}
            for p in param_defns
        ]
        body = dict(body_defn)
        if "schema" in body:
            body["schema"] = coercion_view(body["schema"])
        super().__init__(params, body)


VALIDATOR_MAP: dict[str, Any] = {
    "parameter": Parameter31Validator,
    "body": MediaTypeDict(
        {
            "*/*json": JSONBodyValidator,
            "application/x-www-form-urlencoded": FormBodyValidator,
            "multipart/form-data": MultiPartBodyValidator,
        }
    ),
    "response": MediaTypeDict(
        {"*/*json": JSONResponseValidator, "text/plain": TextResponseValidator}
    ),
}


class _CheckedOpenAPI31Specification(OpenAPI31Specification):
    """A document already known to be valid 3.1, such as a bundled spec the tests lint."""

    @classmethod
    def _validate_spec(cls, spec: Mapping[str, Any]) -> None:
        pass


def load_specification(
    source: Path | Mapping[str, Any], *, trusted: bool = False
) -> OpenAPI31Specification:
    """Load and check an OpenAPI 3.1 document (a path or an already-parsed mapping).

    ``trusted`` skips the OpenAPI 3.1 check for documents validated elsewhere (the bundled
    specs), which saves start-up time and memory; anything a user supplies is checked.
    """
    spec_cls = _CheckedOpenAPI31Specification if trusted else OpenAPI31Specification
    if isinstance(source, Mapping):
        return spec_cls(copy.deepcopy(dict(source)))
    try:
        return spec_cls(load_document(source), base_uri=f"{source.parent}/")
    except SpecError as exc:
        raise SpecError(f"{source}: {exc}") from exc


def add_api(
    app: AsyncApp,
    source: Path | Mapping[str, Any],
    *,
    base_path: str | None = None,
    name: str | None = None,
    trusted: bool = False,
    **options: Any,
) -> None:
    """Register an OpenAPI 3.1 document on ``app``, like ``AsyncApp.add_api`` does for 3.0.

    ``trusted`` skips the 3.1 check (see :func:`load_specification`). ``options`` are those of
    ``AsyncApp.add_api`` (``resolver``, ``validate_responses``...);
    the 3.1 URI parser and validators are the defaults, and ``validator_map`` may override them.
    """
    middleware = app.middleware
    if middleware.middleware_stack is not None:
        raise RuntimeError("Cannot add an API after the application has started")
    specification = load_specification(source, trusted=trusted)
    validators = {**VALIDATOR_MAP, **options.pop("validator_map", {})}
    merged = middleware.options.replace(
        uri_parser_class=URIParser31, validator_map=validators, **options
    )
    middleware.apis.append(API(specification, base_path=base_path, name=name, **merged.__dict__))


Verify = Callable[[str], dict[str, Any] | None]
"""A bearer token to the principal connexion hands the handler, or None to refuse it (401)."""
ReadCredentials = Callable[[Sequence[str]], tuple[str, str] | None]
"""A request's Authorization values to ``(scheme, credential)``, or None when there is none."""


def path_argument(name: str) -> str:
    """The keyword a handler gets path parameter ``name`` under (``org-id``: ``org_id``).

    connexion's starlette route names it with each '-' made '_' (``convert_path_parameter``),
    and its parameter decorator passes it under that name, sanitized.
    """
    return str(sanitized(name.replace("-", "_")))


def bearer_security(verify: Verify, read: ReadCredentials) -> type[BearerSecurityHandler]:
    """A connexion security handler for ``scheme: bearer``: ``read`` the header, ``verify`` it.

    connexion itself answers a missing header, another scheme or a blank token with 401.
    """

    class PolicyBearerHandler(BearerSecurityHandler):  # type: ignore[misc]
        #: Its answer depends on the Authorization header alone (``verify`` is a pure function
        #: of the token), so :class:`OperationParts` may remember it per request head.
        checks_only_authorization = True

        def _resolve_func(self, security_scheme: dict[str, Any]) -> Any:
            return verify

        @staticmethod
        def get_auth_header_value(request: Any) -> tuple[str | None, str | None]:
            return read(request.headers.getlist("authorization")) or (None, None)

        # connexion asks this twice per request and answers with inspect.signature each time
        # (8% of a request's CPU in the benchmark); ``verify`` never changes, so remember it.
        _accepts_kwarg = staticmethod(functools.cache(BearerSecurityHandler._accepts_kwarg))

    return PolicyBearerHandler


class AnyPathConvertor(starlette.convertors.PathConvertor):
    """starlette's ``path`` convertor, matching newlines too.

    connexion mounts each API with ``Mount(base_path)``, whose ``{path:path}`` is ``.*`` and stops
    at a newline: ``/orgs/%0A/billing/overage`` would miss every route and get a 404 the spec
    does not document, though ``org_id`` is any string.
    """

    regex = "(?s:.*)"


# Process-wide (starlette keeps one table of convertors): every app that imports the adapter
# routes this way, which is what every API here needs.
starlette.convertors.register_url_convertor("path", AnyPathConvertor())


# -- The short way for body-less GETs (web/fastpath.py) ------------------------------------------


class OperationParts:
    """What connexion runs for one operation's request, built once instead of per request.

    The same objects its middlewares and decorators use: the security operation's check, the
    parameter validator, the path arguments and context its parameter decorator hands the
    handler, and its response building (with the content types looked up once).
    """

    def __init__(self, operation: Any, factory: SecurityHandlerFactory, options: Any) -> None:
        self.operation = operation
        self.handler: Callable[..., Awaitable[Any]] = operation.function
        self.route_path = starlettify_path(operation.path, operation.get_path_parameter_types())
        security = SecurityOperation.from_operation(
            operation, next_app=None, security_handler_factory=factory
        )
        self._verify = security.verification_fn if operation.security else None
        self.check_is_pure = checks_only_headers(operation, factory)
        """Whether :meth:`check` depends on nothing but the request's path and headers."""
        uri_parser = operation.uri_parser_class(operation.parameters, operation.body_definition())
        self._validator = options["validator_map"]["parameter"](
            operation.parameters, uri_parser=uri_parser, strict_validation=False
        )
        self._sanitize = pythonic if options.get("pythonic_params") else sanitized
        self._arguments, self._has_kwargs = inspect_function_arguments(
            unwrap_decorators(self.handler)
        )
        self._responder = _Responder(operation.produces, options.get("jsonifier") or Jsonifier())

    def takes_only_path_and_context(self) -> bool:
        """Whether connexion would give the handler only what :meth:`arguments` gives.

        True for a coroutine function of an operation without a request body or query
        parameters, whose named arguments are path parameters or security's context (a
        ``**parameters`` catch-all then gets just those too, for a request without a query
        string). Others (a body, query parameters and their defaults, a sync handler connexion
        runs in a thread pool) take the full path.
        """
        operation = self.operation
        path = {self._sanitize(p["name"]) for p in operation.parameters if p["in"] == "path"}
        takes_query = any(p["in"] == "query" for p in operation.parameters)
        other = set(self._arguments) - path - {"user", "token_info", CONTEXT_NAME}
        return not (
            operation.request_body
            or takes_query
            or other
            or not asyncio.iscoroutinefunction(self.handler)
        )

    def request(self, scope: Scope) -> ConnexionRequest:
        """Connexion's request for ``scope``, reading parameters as the validator does."""
        return ConnexionRequest(scope, uri_parser=self._validator.uri_parser)

    async def check(self, request: ConnexionRequest) -> None:
        """Security, then parameter validation; raises as the full path's middlewares raise.

        Security puts what it found (``token_info``) into the request's connexion context.
        """
        if self._verify is not None:
            await self._verify(request)
        self._validator.validate_request(request)

    def enter(self, scope: Scope, receive: Receive) -> None:
        """Set connexion's context for the handler, as its ContextMiddleware does."""
        _context.set(scope["extensions"]["connexion_context"])
        _operation.set(self.operation)
        _receive.set(receive)
        _scope.set(scope)

    def arguments(self, request: ConnexionRequest) -> dict[str, Any]:
        """What connexion's parameter decorator passes a handler of path parameters and context."""
        kwargs: dict[str, Any] = _get_path_arguments(
            request.path_params, operation=self.operation, sanitize=self._sanitize
        )
        context = request.context
        kwargs.update(
            (key, value)
            for key, value in context.items()
            if self._has_kwargs or key in self._arguments
        )
        if CONTEXT_NAME in self._arguments:
            kwargs[CONTEXT_NAME] = context
        return kwargs

    def respond(self, result: Any) -> Any:
        """The starlette response connexion builds from what the handler returned."""
        return self._responder.build_framework_response(result)


def checks_only_headers(operation: Any, factory: SecurityHandlerFactory) -> bool:
    """Whether every security scheme of ``operation`` is bearer, checked by ``bearer_security``.

    connexion's parameter validation is a pure function of the request; a security handler of
    another kind may look at anything (a clock, a database), so only this one is trusted.
    """
    bearer = factory.security_handlers.get("bearer")
    schemes = operation.security_schemes or {}
    return all(
        getattr(bearer, "checks_only_authorization", False)
        and schemes.get(name, {}).get("type") == "http"
        and schemes.get(name, {}).get("scheme", "").lower() == "bearer"
        for requirement in operation.security or ()
        for name in requirement
    )


class _Responder(AsyncResponseDecorator):  # type: ignore[misc]
    """connexion's response building, with the operation's content types looked up once."""

    def __init__(self, produces: list[str], jsonifier: Jsonifier) -> None:
        super().__init__(framework=StarletteFramework, jsonifier=jsonifier)
        self.declared = frozenset(produces)

    def build_framework_response(self, handler_response: Any) -> Any:
        """The response connexion builds, in one step for what the mock's handlers return.

        That is a JSON object, a status and headers naming a declared JSON content type, for
        which connexion's steps come down to this one ``Response`` (tests/web/test_fastpath.py
        holds the two to identical bytes).
        """
        if type(handler_response) is tuple and len(handler_response) == 3:
            data, status, headers = handler_response
            if type(data) is dict and type(status) is int and type(headers) is dict:
                content_type = self.declared_json(headers)
                if content_type is not None:
                    return StarletteResponse(
                        content=self.jsonifier.dumps(data),
                        status_code=status,
                        media_type=content_type,
                        headers=headers,
                    )
        return super().build_framework_response(handler_response)

    def declared_json(self, headers: dict[str, Any]) -> str | None:
        """The JSON Content-Type in ``headers``, if the operation declares it."""
        content_type = headers.get("Content-Type")
        if content_type in self.declared and is_json_mimetype(split_content_type(content_type)[0]):
            return str(content_type)
        return None

    def _infer_content_type(self, data: Any, headers: Any) -> str | None:
        """The Content-Type the handler set, when the operation declares it; else connexion's.

        connexion's own reading of the headers builds typing generics on every call (a fifth
        of the response's cost); the answer is the same whenever this shortcut answers.
        """
        if isinstance(headers, dict):
            for name, value in headers.items():
                if name.lower() == "content-type":
                    if isinstance(value, str) and value in self.declared:
                        return value
                    break
        inferred: str | None = super()._infer_content_type(data, headers)
        return inferred


def add_after_errors(app: AsyncApp, middleware: type) -> None:
    """Put ``middleware`` right after connexion's exception middleware, before Swagger UI."""
    app.add_middleware(middleware, position=MiddlewarePosition.BEFORE_SWAGGER)
