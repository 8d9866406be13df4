"""Kenbun's facts for the contract kit: its spec, rules and where each check rests."""

from __future__ import annotations

from usagemock.apis.api_facts import ApiFacts
from usagemock.apis.kenbun.rules import KENBUN, KENBUN_DOC, KENBUN_MOMENTS, KENBUN_SERIES
from usagemock.rules import documented
from usagemock.specs import spec_path

NAME = "kenbun"

FACTS = ApiFacts(
    name=NAME,
    spec=spec_path(NAME),
    doc=KENBUN_DOC,
    definition="usagemock.apis.kenbun.mock:DEFINITION",
    sample_path="/usage",
    org_param=None,  # "automatically set based on your account context"
    rules=KENBUN,
    moments=KENBUN_MOMENTS,
    series=KENBUN_SERIES,
    categories=("free_tier_limit", "overage_unit", "overage_rate_cents", "subscription_status"),
    check_sources={
        "status_code_conformance": documented(
            KENBUN_DOC, '"200 OK"; Common Errors: 400 "Bad Request", 401 "Unauthorized"'
        ),
        "content_type_conformance": documented(
            KENBUN_DOC,
            '"200 OK" with a JSON body; its Common Errors document no body, so any passes',
        ),
        "response_schema_conformance": documented(
            KENBUN_DOC,
            'Response Fields: every field, its type, "timestamp or null" for trial_ends_at '
            "(plus the minimums marked x-usagemock-inferred in specs/kenbun.yaml)",
        ),
        "ignored_auth": documented(
            KENBUN_DOC,
            '`-H "Authorization: Bearer <token>"`; Common Errors: 401, "Unauthorized", '
            '"Check authentication credentials"',
        ),
        "negative_data_rejection": documented(KENBUN_DOC, '"No query parameters required."'),
        "credential_required": documented(
            KENBUN_DOC,
            'Common Errors: 401, "Unauthorized", "Check authentication credentials"',
        ),
        "owned_orgs_only": documented(
            KENBUN_DOC,
            'org_id: "automatically set based on your account context -- you do not need to '
            'provide this manually" (no org in the request: nothing to check)',
        ),
    },
)
