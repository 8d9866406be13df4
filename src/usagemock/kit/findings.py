"""From check results to token-free findings: the tally of checks, a finding's source, its curl.

Both kinds of stage (schemathesis' engine, and the samples and probes the kit sends itself) meet
the same checks; :func:`tally` counts what ran and picks out what failed, once for both, and
:func:`finding` turns a failure into a :class:`~usagemock.kit.events.Finding` whose source is
decided from the answer it was found on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from schemathesis import Case, Response
from schemathesis.engine import Status

from usagemock.kit import checks, sources
from usagemock.kit.events import Finding, redact
from usagemock.kit.plan import Plan
from usagemock.kit.replay import curl
from usagemock.rules import Source

BODY_EXCERPT = 600
"""How much of a response body a finding quotes."""
ERROR_CHECK = sources.ERROR_CHECK
#: schemathesis' check of documented statuses; an undocumented 4xx it finds is only a note.
STATUS_CHECK = "status_code_conformance"
ERROR_TITLE = "every request gets a response (no network error, timeout or crash)"


def tally(
    api: str, results: Iterable[tuple[str, Status, Any]], counts: Counter[str]
) -> Iterator[tuple[str, Any]]:
    """Count each ``(check, status, failure)`` result of ``api``'s checks; yield the failures.

    Another API's rule checks run too (they are registered process-wide) and stay silent on this
    one: they are neither counted nor judged.
    """
    for name, status, failure in results:
        if _foreign(api, name):
            continue
        counts[name] += 1
        if status == Status.FAILURE and failure is not None:
            yield name, failure


def _foreign(api: str, check: str) -> bool:
    """Whether ``check`` is another API's rule (registered process-wide, silent on this one)."""
    return any(check in names for other, names in checks.rule_checks().items() if other != api)


def _source(
    api: str, check: str, stage: str, status: int | None, parameters: Mapping[str, Any]
) -> Source:
    """Where a break of ``check`` comes from, given the answer it was found on.

    A few answers are the server's freedom whatever the check: a 404 or 400 to an org id with
    an encoded slash (HTTP's call), a 429, and an undocumented 4xx outside the known orgs'
    samples (asked with a token that owns them, those must answer as documented).
    """
    org = str(parameters.get("org_id", ""))
    if status in (400, 404) and ("/" in org or "%2f" in org.lower()):
        return sources.ENCODED_SLASH
    if status == 429:
        return sources.RATE_LIMITED
    if check == STATUS_CHECK and status is not None and status // 100 == 4 and stage != "samples":
        return sources.UNDOCUMENTED_CLIENT_ERROR
    return sources.source_of(api, check)


def finding(
    plan: Plan,
    stage: str,
    check: str,
    title: str,
    message: str,
    where: Case[Any] | str | None,
    *,
    method: str | None = None,
    url: str | None = None,
    headers: dict[str, str] | None = None,
    response: Response | None = None,
) -> Finding:
    """A token-free Finding; request details come from ``response`` when there is one."""
    if response is not None:
        request = response.request
        method, url = request.method or method, request.url or url
        headers = {name: str(value) for name, value in request.headers.items()}
    if isinstance(where, Case):
        operation = where.operation.label
        method = method or where.method
        url = url or plan.target.base_url + where.formatted_path
    else:
        operation = where or "?"
    status = content_type = None
    body = ""
    if response is not None:
        status = response.status_code
        content_type = response.headers.get("content-type", [None])[0]
        body = response.content.decode("utf-8", "replace")[:BODY_EXCERPT]
    url = plan.target.shown(url or "")
    token = plan.token
    parameters = (where.path_parameters or {}) if isinstance(where, Case) else {}
    source = _source(plan.api, check, stage, status, parameters)
    return Finding(
        api=plan.api,
        check=check,
        title=redact(title, token),
        message=redact(message, token),
        stage=stage,
        operation=operation,
        method=method or "GET",
        url=redact(url or "", token),
        status=status,
        content_type=content_type,
        body=redact(body, token),
        curl=curl(method or "GET", url or "", headers or {}, token),
        seed=plan.seed,
        kind=source.kind.value,
        source=source.cite(),
    )
