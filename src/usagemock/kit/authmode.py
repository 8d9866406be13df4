"""Whether the server under test is a usagemock in open mode, where any token works by design.

A usagemock says in every response which tokens it accepts (``X-Usagemock-Auth: open`` or
``fixtures``). In open mode any bearer token is valid and may read any org, so the checks that
judge which tokens a server accepts would fail the mock for doing what it is meant to do. The
kit then turns those checks off and says so in the report, with how to test auth instead
(``usagemock serve --fixtures FILE``). Any other server, and a usagemock with a fixtures file,
gets every check: nothing changes for them.

The same answer shows two mistakes every check would only repeat, so the run stops with a
usage error instead:

- a base URL that misses the API: a usagemock answering 404 for the API's own path. The kit
  asks the server's root and ``<root>/<api>`` (where one serving every API has it) and names
  the one that answers, or says that this usagemock serves another API;
- a token the target refuses: the request is the samples' own (where paths name the org: the
  first ``--org-id``), so a 401 or 403 means every sample would be refused and a run would
  test only refusals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from schemathesis import BaseSchema, Case, Response

from usagemock.apis import facts
from usagemock.kit.asked import PATH_PARAMETER
from usagemock.kit.events import StageFinished, redact
from usagemock.kit.expectations import promised_status
from usagemock.kit.sources import CREDENTIAL_REQUIRED, OWNED_ORGS_ONLY
from usagemock.kit.targets import TargetError
from usagemock.specs import AUTH_MODE_HEADER

if TYPE_CHECKING:
    from usagemock.kit.plan import Plan

OPEN = "open"
#: The checks that judge which tokens a server accepts (``ignored_auth`` is schemathesis').
AUTH_CHECKS = (CREDENTIAL_REQUIRED, "ignored_auth", OWNED_ORGS_ONLY)
STAGE = "auth"


def not_applicable(plan: Plan, schema: BaseSchema) -> StageFinished | None:
    """A skipped stage saying why the auth checks do not apply, or None when they do.

    Asks the target once, as the samples will (the run's token; where paths name the org: the
    first known one), and reads the mode from the answer's headers. A usagemock that does not
    serve the API at the base URL, or a target refusing the token, is a TargetError.
    """
    path = next(iter(facts(plan.api).document()["paths"]))
    org = plan.org_ids[0] if plan.org_ids else "usagemock-auth-mode"
    parameters = {name: org for name in PATH_PARAMETER.findall(path)}
    case = schema[path]["GET"].Case(path_parameters=parameters or None)
    response = _ask(plan, case)
    if response is None:  # no answer at all: the run itself reports that, in full
        return None
    mode = _mode(response)
    label = redact(plan.target.label, plan.token)
    if mode is not None and response.status_code == 404:
        # Every check would fail on 404s: the base URL is wrong, which is a usage error.
        raise TargetError(
            f"{label} is a usagemock, but it answers 404 to GET {path}: {_elsewhere(plan, case)}"
        )
    _check_token_accepted(plan, case, response.status_code, owns=bool(parameters))
    if mode != OPEN:
        return None
    return StageFinished(
        api=plan.api,
        stage=STAGE,
        operation="*",
        requests=0,
        skipped=f"{label} is a usagemock in open mode, where any token works: "
        f"{', '.join(AUTH_CHECKS)} do not apply; serve it with --fixtures FILE to test auth",
    )


def _ask(plan: Plan, case: Case[Any], base_url: str | None = None) -> Response | None:
    """The target's answer to ``case`` with the run's token (at ``base_url``), or None."""
    try:
        return case.call(
            base_url=base_url,
            headers={"Authorization": f"Bearer {plan.token}"},
            timeout=plan.request_timeout,
        )
    except Exception:  # no answer at all: the caller decides what that means
        return None


def _mode(response: Response) -> str | None:
    """The auth mode a usagemock states in ``response`` (None: not a usagemock)."""
    return response.headers.get(AUTH_MODE_HEADER.lower(), [None])[0]


def _elsewhere(plan: Plan, case: Case[Any]) -> str:
    """Where this usagemock serves ``plan.api``, found by asking, or what to try instead."""

    def answer_at(candidate: str) -> tuple[int, str | None] | None:
        answer = _ask(plan, case, candidate)
        return None if answer is None else (answer.status_code, _mode(answer))

    return elsewhere(plan.target.base_url, plan.api, plan.token, answer_at)


def elsewhere(
    base_url: str,
    api: str,
    token: str,
    answer_at: Callable[[str], tuple[int, str | None] | None],
) -> str:
    """Where a usagemock answering 404 at ``base_url`` serves ``api``, or what to try instead.

    ``answer_at(candidate)`` is the status and the stated auth mode (None: not a usagemock) of
    the answer to the API's request at that base URL, or None for no answer. A usagemock serves
    the API there when it states its mode in an answer other than 404.
    """
    parts = urlsplit(base_url)
    root = f"{parts.scheme}://{parts.netloc}"
    # One serving every API has each under /<api>; one started with --api has it at its root.
    for candidate in (f"{root}/{api}", root):
        found = None if candidate == base_url else answer_at(candidate)
        if found is not None and found[0] != 404 and found[1] is not None:
            where = redact(candidate, token)
            return f"it does not serve {api} there; it has it at {where}; use that as the base URL."
    shown = redact(root, token)
    return (
        f"it serves {api} neither at {shown} nor at {shown}/{api}, so it serves another "
        f"API. Start one with `usagemock serve --api {api}` (or `usagemock serve`: every "
        f"API, each at {shown}/<api>)."
    )


def _check_token_accepted(plan: Plan, case: Case[Any], status: int, *, owns: bool) -> None:
    """Stop the run when the target refuses the run's token where the samples will use it.

    Without a known org a 403 may only say the probe's made-up org is not the token's; with a
    scenario's promises, ``scenario_expectations`` reports a server in another state.
    """
    if status not in (401, 403) or status == promised_status(plan.expect):
        return  # a scenario such as forbidden promises its refusal
    if status == 403 and ((owns and not plan.org_ids) or (plan.scenario and plan.expect)):
        return  # a made-up org, or a server in another state than promised: the run says so
    org = plan.org_ids[0] if owns and plan.org_ids else None
    also = f" and that the token owns --org-id {org}" if org is not None else ""
    raise TargetError(
        f"{redact(plan.target.label, plan.token)} answers {status} to "
        f"GET {redact(case.formatted_path, plan.token)} with the run's token, so every sample "
        f"would be refused: check USAGEMOCK_TOKEN (or --token){redact(also, plan.token)}."
    )
