"""Timbal's facts for the contract kit: its spec, rules and where each check rests."""

from __future__ import annotations

from usagemock.apis.api_facts import ApiFacts
from usagemock.apis.timbal.rules import TIMBAL, TIMBAL_DOC, TIMBAL_MOMENTS, TIMBAL_SERIES
from usagemock.rules import documented, inferred
from usagemock.specs import spec_path

NAME = "timbal"

FACTS = ApiFacts(
    name=NAME,
    spec=spec_path(NAME),
    doc=TIMBAL_DOC,
    definition="usagemock.apis.timbal.mock:DEFINITION",
    sample_path="/orgs/org_demo/billing/overage",
    org_param="org_id",
    rules=TIMBAL,
    moments=TIMBAL_MOMENTS,
    series=TIMBAL_SERIES,
    categories=("enabled", "rate_cents_per_1k", "threshold_usd"),
    check_sources={
        "status_code_conformance": documented(
            TIMBAL_DOC,
            "responses: '200', '403', '500' (and 401, inferred from `security: - bearer_auth: []`)",
        ),
        "content_type_conformance": documented(
            TIMBAL_DOC,
            "`application/json` for '200', '403' and '500' (the 401 we infer documents no body)",
        ),
        "response_schema_conformance": documented(
            TIMBAL_DOC,
            "#/components/schemas/OverageSummary and #/components/schemas/ErrorMessage (plus the "
            "minimums marked x-usagemock-inferred in specs/timbal.yaml)",
        ),
        "ignored_auth": documented(TIMBAL_DOC, "`security: - bearer_auth: []`"),
        "negative_data_rejection": documented(
            TIMBAL_DOC, "`org_id`: `in: path`, `required: true`, `type: string`"
        ),
        "credential_required": inferred(
            TIMBAL_DOC,
            "`security: - bearer_auth: []`; `'403': description: Forbidden`",
            "a bearer-protected operation refuses a request without a valid token: RFC 6750 says "
            "401, Timbal documents 403, either passes",
        ),
        "owned_orgs_only": inferred(
            TIMBAL_DOC,
            "`/orgs/{org_id}/billing/overage` with `security: - bearer_auth: []`; "
            "`'403': description: Forbidden`",
            "an org's billing is read with a key that may read it; the orgs you pass with --org-id "
            "are the ones the token may read",
        ),
    },
)
