"""Whether the server under test is a usagemock in open mode, where any token works by design.

A usagemock says in every response which tokens it accepts (``X-Usagemock-Auth: open`` or
``fixtures``). In open mode any bearer token is valid and may read any org, so the checks that
judge which tokens a server accepts would fail the mock for doing what it is meant to do. The
kit then turns those checks off and says so in the report, with how to test auth instead
(``usagemock serve --fixtures FILE``). Any other server, and a usagemock with a fixtures file,
gets every check: nothing changes for them.

The same answer shows a base URL that misses the API: a usagemock answering 404 for the API's
own path serves it elsewhere (one serving every API has it under ``/<api>``), and every check
would fail on 404s, so the run stops with a usage error that names the right URL.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from schemathesis import BaseSchema

from usagemock.kit.events import StageFinished, redact
from usagemock.kit.sources import CREDENTIAL_REQUIRED, OWNED_ORGS_ONLY
from usagemock.kit.targets import TargetError
from usagemock.specs import AUTH_MODE_HEADER, load_bundled

if TYPE_CHECKING:
    from usagemock.kit.runner import Plan

OPEN = "open"
#: The checks that judge which tokens a server accepts (``ignored_auth`` is schemathesis').
AUTH_CHECKS = (CREDENTIAL_REQUIRED, "ignored_auth", OWNED_ORGS_ONLY)
STAGE = "auth"


def not_applicable(plan: Plan, schema: BaseSchema) -> StageFinished | None:
    """A skipped stage saying why the auth checks do not apply, or None when they do.

    Asks the target once, with the run's token, and reads the mode from the answer's headers.
    A usagemock that does not serve the API at the base URL is a TargetError.
    """
    path = next(iter(load_bundled(plan.api)["paths"]))
    parameters = {name: "usagemock-auth-mode" for name in re.findall(r"\{(\w+)\}", path)}
    case = schema[path]["GET"].Case(path_parameters=parameters or None)
    try:
        response = case.call(
            headers={"Authorization": f"Bearer {plan.token}"}, timeout=plan.request_timeout
        )
    except Exception:  # no answer at all: the run itself reports that, in full
        return None
    mode = response.headers.get(AUTH_MODE_HEADER.lower(), [None])[0]
    label, base_url = (
        redact(text, plan.token) for text in (plan.target.label, plan.target.base_url)
    )
    if mode is not None and response.status_code == 404:
        # Every check would fail on 404s: the base URL is wrong, which is a usage error.
        raise TargetError(
            f"{label} is a usagemock, but it answers 404 to GET {path}: it does not serve "
            f"{plan.api} there. One serving every API has it at {base_url}/{plan.api}; use that "
            "as the base URL."
        )
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
