"""Judge traffic the kit did not make: one exchange at a time, with the kit's checks and rules.

A proxy (:mod:`usagemock.kit.proxy`) hands each request and its answer to a :class:`Watch`. The
request is placed on the spec (:mod:`usagemock.kit.asked`); where it breaks the spec is the
client's bug, and the answer to an operation the spec does not document is not judged. Every
other answer meets the checks ``usagemock test`` runs (schemathesis' own on the vendor-only
contract, the body and moment rules, the mock-spec notes), through the same schema, hook and
finding builder, and each 200 is held with the previous answer to the same token about the same
org to the rules across calls. Checks that send requests of their own (``ignored_auth``) or
judge generated cases only are off: a proxy only watches. The auth checks need a token known to
be valid and the orgs it owns (``token``, ``org_ids``), as in ``usagemock test``; without one,
only a 2xx to a request with no credential at all is judged (``credential_required``).

Findings are the kit's token-free :class:`~usagemock.kit.events.Finding`: the token of each
request is masked in it, and its curl line says ``$USAGEMOCK_TOKEN``. At the end
:meth:`Watch.events` gives the run's events, for the JUnit report and a summary.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import time
from collections import Counter, OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import requests  # schemathesis' Response holds a requests.PreparedRequest
import schemathesis
from requests.structures import CaseInsensitiveDict
from schemathesis import BaseSchema, Case, CheckResult
from schemathesis.errors import FailureGroup

from usagemock.apis import facts
from usagemock.kit import checks
from usagemock.kit.asked import Asked, client_breaks, place
from usagemock.kit.events import Event, Finding, RunFinished, StageFinished
from usagemock.kit.findings import finding, tally
from usagemock.kit.plan import Plan, build_schema
from usagemock.kit.samples import known_org_refused, series_findings
from usagemock.kit.sources import CREDENTIAL_REQUIRED
from usagemock.kit.targets import Target
from usagemock.rules import DEFAULT_CLOCK_SKEW, Answer

#: The stage a proxy's findings are reported in; the client's own bugs are the "client" stage.
STAGE = "proxy"
CLIENT_STAGE = "client"
#: Checks a proxy does not run: they send requests of their own, or judge generated cases.
_WATCH_ONLY = (
    "ignored_auth",
    "use_after_free",
    "ensure_resource_availability",
    "unsupported_method",
    "missing_required_header",
    "positive_data_acceptance",
    "negative_data_rejection",
)
#: Answers remembered for the rules across calls (one per token and org); the oldest go first.
_REMEMBERED = 10_000


@dataclass(frozen=True)
class Exchange:
    """One request as the client sent it and the answer as the server gave it.

    ``body`` is the answer's body as sent (compressed, when it was): it is decoded only here,
    for the checks.
    """

    method: str
    raw_path: str
    query: str
    headers: Sequence[tuple[str, str]]
    request_body: bytes
    url: str
    """Where the request went upstream."""
    status: int
    response_headers: Sequence[tuple[str, str]]
    body: bytes
    sent: datetime
    received: datetime


@dataclass(frozen=True)
class Verdict:
    """What one exchange broke: the server's failures and notes, and the client's bugs."""

    findings: tuple[Finding, ...] = ()

    @property
    def failures(self) -> tuple[Finding, ...]:
        """The server's documented and inferred breaks."""
        return tuple(f for f in self.findings if f.stage != CLIENT_STAGE and not f.note)

    @property
    def client(self) -> tuple[Finding, ...]:
        """Where the request broke the spec: the client's bugs."""
        return tuple(f for f in self.findings if f.stage == CLIENT_STAGE)


@dataclass
class _Tally:
    """What a watch saw of one operation: requests, checks run, findings."""

    requests: int = 0
    checks: Counter[str] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)


class Watch:
    """Judges exchanges against the APIs mounted at their prefixes, and remembers the run."""

    def __init__(
        self,
        mounts: Mapping[str, str],
        target: str,
        *,
        token: str = "",
        org_ids: tuple[str, ...] = (),
        clock_skew: timedelta = DEFAULT_CLOCK_SKEW,
    ) -> None:
        self.mounts = dict(mounts)
        """Prefix -> API name: ``""`` for one API at the root, else ``/<name>`` for each."""
        self.token = token
        """A token known to be valid, owning ``org_ids`` ("": none known, the auth checks off)."""
        self.org_ids = frozenset(org_ids)
        self._plans = {
            api: Plan(
                api=api,
                target=Target(target.rstrip("/") + prefix),
                token=token,
                org_ids=org_ids,
                seed=0,  # for the schema only: the watch generates nothing
                clock_skew=clock_skew,
            )
            for prefix, api in self.mounts.items()
        }
        self._results: list[CheckResult] = []
        self._schemas = {api: self._schema(plan) for api, plan in self._plans.items()}
        self._last: OrderedDict[tuple[str, str, str], tuple[Answer, Case[Any], Any]] = OrderedDict()
        self._tallies: dict[tuple[str, str], _Tally] = {}
        self._started = time.perf_counter()

    def _schema(self, plan: Plan) -> BaseSchema:
        schema = build_schema(plan, disabled=_WATCH_ONLY)
        results = self._results

        @schema.hook
        def after_validate(
            ctx: Any, case: Case[Any], response: Any, found: list[CheckResult]
        ) -> None:
            results.extend(found)

        return schema

    def place(self, method: str, raw_path: str, query: str) -> Asked | None:
        """Where a request lands on the mounted specs (None: under no API's mount)."""
        return place(self.mounts, method, raw_path, query)

    def judge(self, exchange: Exchange, *, by_upstream: bool = True) -> Verdict:
        """Every check ``exchange`` breaks (server and client), remembered for the run's end.

        ``by_upstream=False``: the mock answered in the upstream's place, so only the client's
        request is judged.
        """
        asked = self.place(exchange.method, exchange.raw_path, exchange.query)
        if asked is None:
            return Verdict()
        # Each finding masks the token the request carried (and the known one, were it this).
        plan = dataclasses.replace(self._plans[asked.api], token=credentials(exchange.headers))
        label = f"{asked.method} {asked.template or asked.path[:100]}"
        seen = self._tallies.setdefault((asked.api, label), _Tally())
        seen.requests += 1
        broken = client_breaks(asked, exchange.headers)
        findings = [
            finding(
                plan,
                CLIENT_STAGE,
                b.check,
                f"the request breaks the spec: the client's bug ({b.check})",
                b.message,
                label,
                method=exchange.method,
                url=exchange.url,
                headers=dict(exchange.headers),
            )
            for b in broken
        ]
        if asked.documented and by_upstream:
            findings += self._server_findings(plan, asked, exchange, seen.checks)
        # The traffic is the client's, not generated: no seed replays it.
        findings = [dataclasses.replace(found, seed=None) for found in findings]
        seen.findings += findings
        return Verdict(tuple(findings))

    def _server_findings(
        self, plan: Plan, asked: Asked, exchange: Exchange, counts: Counter[str]
    ) -> list[Finding]:
        schema = self._schemas[asked.api]
        operation = schema[asked.template or ""][asked.method]
        case = operation.Case(
            path_parameters=asked.path_parameters or None,
            query=asked.query or None,
            headers=_fields(exchange.headers),
        )
        response = _checked_copy(exchange)
        self._results.clear()
        # Every failure also lands in the results, with the name of the check that found it.
        with contextlib.suppress(FailureGroup):
            case.validate_response(response, headers=_fields(exchange.headers))
        # The known token asking for an org it owns is what the kit's samples are: judged alike
        # (an undocumented 4xx to it is a failure, and it must get 200).
        own = self._owns(plan.token, asked)
        tallied = ((result.name, result.status, result.failure) for result in self._results)
        findings = [
            finding(
                plan,
                "samples" if own else STAGE,
                check,
                failure.title,
                failure.message,
                case,
                response=response,
            )
            for check, failure in tally(asked.api, tallied, counts)
        ]
        if own:
            findings += known_org_refused(plan, case, response, counts)
        if not (self.token or plan.token):  # a known token turns the kit's own check on
            findings += _credential_required(plan, case, response, counts)
        findings = [dataclasses.replace(f, stage=STAGE) for f in findings]
        body = checks.json_object(response)
        if response.status_code == 200 and body is not None:
            answer = Answer(body, exchange.sent, exchange.received)
            org = json.dumps(sorted(asked.path_parameters.items()))
            key = (asked.api, _fingerprint(plan.token), org)
            earlier = self._last.pop(key, None)
            if earlier is not None:
                findings += series_findings(
                    plan, STAGE, [earlier, (answer, case, response)], counts
                )
            self._last[key] = (answer, case, response)
            if len(self._last) > _REMEMBERED:
                self._last.popitem(last=False)
        return findings

    def _owns(self, token: str, asked: Asked) -> bool:
        """Whether the known token asks about an org it owns (an operation without one: yes)."""
        if not self.token or token != self.token:
            return False
        org_param = facts(asked.api).org_param
        return org_param not in asked.path_parameters or (
            asked.path_parameters[org_param] in self.org_ids
        )

    def events(self) -> list[Event]:
        """The run so far as the kit's events: a stage per API and operation, a RunFinished each."""
        elapsed = time.perf_counter() - self._started
        found: list[Event] = []
        for api in dict.fromkeys(self.mounts.values()):
            stages = [
                StageFinished(
                    api=api,
                    stage=STAGE,
                    operation=operation,
                    requests=seen.requests,
                    checks=seen.checks,
                    findings=tuple(seen.findings),
                )
                for (of, operation), seen in self._tallies.items()
                if of == api
            ]
            found += stages
            found.append(
                RunFinished(
                    api=api,
                    seed=None,
                    elapsed=elapsed,
                    requests=sum(stage.requests for stage in stages),
                    findings=tuple(f for stage in stages for f in stage.findings),
                )
            )
        return found


def credentials(headers: Sequence[tuple[str, str]]) -> str:
    """The credentials of a request's Authorization header ("" without one): what to mask."""
    value = next((v for k, v in headers if k.lower() == "authorization"), "")
    scheme, _, token = value.strip().partition(" ")
    return token.strip() or scheme


def _credential_required(
    plan: Plan, case: Case[Any], response: schemathesis.Response, counts: Counter[str]
) -> list[Finding]:
    """A request without credentials must be refused: a 2xx to it breaks ``credential_required``.

    The kit's own check needs the valid token to tell an invalid one; a proxy knows none, so
    it judges only what needs none: the request that carried no credential at all.
    """
    counts[CREDENTIAL_REQUIRED] += 1
    if response.status_code >= 300:
        return []
    title = f"{checks.STATEMENTS[CREDENTIAL_REQUIRED]} ({CREDENTIAL_REQUIRED})"
    message = f"A request with no credentials got {response.status_code}, not a refusal."
    return [finding(plan, STAGE, CREDENTIAL_REQUIRED, title, message, case, response=response)]


def _fields(headers: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Header fields by name, their values stripped of surrounding whitespace.

    RFC 9110 section 5.5: that whitespace is no part of the value (and requests, under
    schemathesis, refuses a value that starts with it).
    """
    return {name: value.strip() for name, value in headers}


def _fingerprint(token: str) -> str:
    """Which token asked, without keeping the token itself."""
    return hashlib.sha256(token.encode()).hexdigest()


def _checked_copy(exchange: Exchange) -> schemathesis.Response:
    """The answer as schemathesis reads it: its body decoded (a copy; the client gets the bytes).

    Built directly rather than through ``Response.from_httpx``, whose request preparation
    (``requests``' URL parsing) took half of the proxy's time per answer.
    """
    request = requests.PreparedRequest()
    request.method, request.url = exchange.method, exchange.url
    request.headers = CaseInsensitiveDict(_fields(exchange.headers))
    request.body = exchange.request_body or None
    headers: dict[str, list[str]] = {}
    for name, value in exchange.response_headers:
        headers.setdefault(name.lower(), []).append(value)
    return schemathesis.Response(
        status_code=exchange.status,
        headers=headers,
        content=_decoded(exchange),
        request=request,
        elapsed=(exchange.received - exchange.sent).total_seconds(),
        verify=True,
    )


def _decoded(exchange: Exchange) -> bytes:
    """The body with its Content-Encoding undone by httpx's decoders (as sent if it fails)."""
    if not any(k.lower() == "content-encoding" for k, _ in exchange.response_headers):
        return exchange.body
    try:
        return httpx.Response(
            exchange.status, headers=list(exchange.response_headers), content=exchange.body
        ).content
    except httpx.DecodingError:
        return exchange.body
