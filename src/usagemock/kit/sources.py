"""The kind and source of every check the kit runs: what a finding rests on, for the report.

Rule checks take theirs from :mod:`usagemock.rules`. schemathesis' own checks run on the
vendor-only contract (:func:`usagemock.specs.vendor_view`), so what they hold a server to is what
the vendor documents, plus the few keywords marked ``x-usagemock-inferred``. Kinds decide the
verdict: a documented or inferred break fails the run, an assumed one is a note.
"""

from __future__ import annotations

from collections.abc import Mapping

from usagemock.rules import (
    KENBUN_DOC,
    MOMENTS,
    RULES,
    SERIES,
    TIMBAL_DOC,
    Kind,
    Source,
    assumed,
    documented,
    inferred,
)

CREDENTIAL_REQUIRED = "credential_required"
OWNED_ORGS_ONLY = "owned_orgs_only"
SCENARIO_EXPECTATIONS = "scenario_expectations"
KNOWN_ORGS_ANSWER = "known_orgs_answer"
MOCK_SPEC = "mock_spec_conformance"
#: What a request that got no response at all (network error, timeout, crash) is reported as.
ERROR_CHECK = "request_completed"
#: The client's bugs a proxy sees in the requests it forwards (the server is not judged on them).
CLIENT_UNDOCUMENTED_OPERATION = "client_undocumented_operation"
CLIENT_BEARER_CREDENTIAL = "client_bearer_credential"

_BOTH = f"{KENBUN_DOC}, {TIMBAL_DOC}"

#: schemathesis' checks and ours, for both APIs; per-API entries in ``_PER_API`` win.
_SHARED: Mapping[str, Source] = {
    "response_headers_conformance": documented(_BOTH, "the response headers documented (none)"),
    "positive_data_acceptance": documented(
        _BOTH, "each parameter's schema: a request within it is one the operation serves"
    ),
    "missing_required_header": assumed(
        "RFC 6750 section 3.1: 401 for a request without its bearer token (schemathesis' rule "
        "for a missing Authorization header; the specs declare no other required header)",
        "Timbal documents 403 for it too; credential_required judges what each vendor allows",
    ),
    **dict.fromkeys(
        ("use_after_free", "ensure_resource_availability", "object_level_authorization"),
        documented(_BOTH, "the links between operations (neither spec declares any)"),
    ),
    "not_a_server_error": inferred(
        "",
        "RFC 9110 section 15.6: a 5xx status says the server failed to fulfil the request",
        "neither vendor describes a request its server cannot serve; Timbal's documented 500 "
        "is its error body, not a licence to fail",
    ),
    "unsupported_method": assumed(
        "RFC 9110 section 15.5.6: 405 with Allow for a method the resource does not support",
        "the vendors document only GET; what a server answers to other methods is HTTP's "
        "freedom (the mock answers 405)",
    ),
    "allow_header_conformance": assumed(
        "an Allow header lists the documented methods",
        "the vendors document no Allow header (the mock sends one)",
    ),
    MOCK_SPEC: assumed(
        "the mock's full spec (specs/<api>.yaml with every x-usagemock-assumed keyword)",
        "where the vendor leaves a choice open, the mock made one; a server that chose "
        "otherwise is conformant",
    ),
    SCENARIO_EXPECTATIONS: documented(
        "the scenario file you named with --scenario",
        "its expect: block: what a server in that scenario answers",
    ),
    KNOWN_ORGS_ANSWER: inferred(
        _BOTH,
        'Kenbun: "200 OK", the org "automatically set based on your account context"; Timbal: '
        "`'200'` for `/orgs/{org_id}/billing/overage` with `security: - bearer_auth: []`",
        "the samples ask for the orgs the token owns (--org-id; Kenbun's comes from the token) "
        "with that token: the request each vendor documents a 200 for. A 401, 403 or 404 to it "
        "says the token or --org-id is wrong, or the server lost the org (with --scenario, "
        "scenario_expectations judges these answers instead)",
    ),
    ERROR_CHECK: inferred(
        "",
        "RFC 9110 section 3.4: a server answers each request it receives",
        "a documented operation answers with a response; a dropped connection or a timeout "
        "is none of them",
    ),
    # The client's side, as `usagemock proxy` sees it: a request the spec does not allow.
    CLIENT_UNDOCUMENTED_OPERATION: documented(
        _BOTH,
        "the spec's paths and their methods (Kenbun: GET /usage; Timbal: GET "
        "/orgs/{org_id}/billing/overage)",
    ),
    CLIENT_BEARER_CREDENTIAL: documented(
        _BOTH, '`security: - bearer_auth: []`; Kenbun: `-H "Authorization: Bearer <token>"`'
    ),
}

_PER_API: Mapping[tuple[str, str], Source] = {
    ("kenbun", "status_code_conformance"): documented(
        KENBUN_DOC, '"200 OK"; Common Errors: 400 "Bad Request", 401 "Unauthorized"'
    ),
    ("timbal", "status_code_conformance"): documented(
        TIMBAL_DOC,
        "responses: '200', '403', '500' (and 401, inferred from `security: - bearer_auth: []`)",
    ),
    ("kenbun", "content_type_conformance"): documented(
        KENBUN_DOC, '"200 OK" with a JSON body; its Common Errors document no body, so any passes'
    ),
    ("timbal", "content_type_conformance"): documented(
        TIMBAL_DOC,
        "`application/json` for '200', '403' and '500' (the 401 we infer documents no body)",
    ),
    ("kenbun", "response_schema_conformance"): documented(
        KENBUN_DOC,
        'Response Fields: every field, its type, "timestamp or null" for trial_ends_at '
        "(plus the minimums marked x-usagemock-inferred in specs/kenbun.yaml)",
    ),
    ("timbal", "response_schema_conformance"): documented(
        TIMBAL_DOC,
        "#/components/schemas/OverageSummary and #/components/schemas/ErrorMessage (plus the "
        "minimums marked x-usagemock-inferred in specs/timbal.yaml)",
    ),
    ("kenbun", "ignored_auth"): documented(
        KENBUN_DOC,
        '`-H "Authorization: Bearer <token>"`; Common Errors: 401, "Unauthorized", '
        '"Check authentication credentials"',
    ),
    ("timbal", "ignored_auth"): documented(TIMBAL_DOC, "`security: - bearer_auth: []`"),
    ("kenbun", "negative_data_rejection"): documented(
        KENBUN_DOC, '"No query parameters required."'
    ),
    ("timbal", "negative_data_rejection"): documented(
        TIMBAL_DOC, "`org_id`: `in: path`, `required: true`, `type: string`"
    ),
    ("kenbun", CREDENTIAL_REQUIRED): documented(
        KENBUN_DOC,
        'Common Errors: 401, "Unauthorized", "Check authentication credentials"',
    ),
    ("timbal", CREDENTIAL_REQUIRED): inferred(
        TIMBAL_DOC,
        "`security: - bearer_auth: []`; `'403': description: Forbidden`",
        "a bearer-protected operation refuses a request without a valid token: RFC 6750 says "
        "401, Timbal documents 403, either passes",
    ),
    ("kenbun", OWNED_ORGS_ONLY): documented(
        KENBUN_DOC,
        'org_id: "automatically set based on your account context -- you do not need to '
        'provide this manually" (no org in the request: nothing to check)',
    ),
    ("timbal", OWNED_ORGS_ONLY): inferred(
        TIMBAL_DOC,
        "`/orgs/{org_id}/billing/overage` with `security: - bearer_auth: []`; "
        "`'403': description: Forbidden`",
        "an org's billing is read with a key that may read it; the orgs you pass with --org-id "
        "are the ones the token may read",
    ),
}

_RULE_SOURCES: Mapping[tuple[str, str], Source] = {
    (api, f"{api}_{rule.name}"): rule.source
    for table in (RULES, MOMENTS, SERIES)
    for api, rules in table.items()
    for rule in rules
}

UNKNOWN = Source(Kind.DOCUMENTED, "the vendor-only contract of the operation")


def source_of(api: str, check: str) -> Source:
    """The kind and source of ``check`` as it judges ``api``."""
    return (
        _RULE_SOURCES.get((api, check)) or _PER_API.get((api, check)) or _SHARED.get(check, UNKNOWN)
    )


def is_note(api: str, check: str) -> bool:
    """Whether a break of ``check`` on ``api`` is a note (assumed), not a failure."""
    return source_of(api, check).kind is Kind.ASSUMED


#: What an answer to the encoded-slash probe rests on when a server's HTTP layer refused it.
UNDOCUMENTED_CLIENT_ERROR = assumed(
    "an error status the vendor does not list is a break (a 4xx other than the documented ones)",
    "OpenAPI 3.1, Responses Object: 'The documentation is not necessarily expected to cover all "
    "possible HTTP response codes because they may not be known in advance'; a 404 for an org "
    "that does not exist is the server's to send. Only the known orgs' samples, asked with a "
    "token that owns them, must get a documented answer",
)
RATE_LIMITED = assumed(
    "a 429 answer is judged like any other",
    "RFC 6585: 429 says the server did not process the request and asks the client to slow "
    "down; any server may send it under load, and nothing in it can be held to the contract",
)
ENCODED_SLASH = assumed(
    "an org id with an encoded slash (%2F) reaches the operation (RFC 3986 section 2.2: "
    "a percent-encoded slash is data, not a path separator)",
    "many HTTP servers decode %2F before routing or refuse it (Apache's AllowEncodedSlashes is "
    "off by default), answering 404 or 400; the mock routes it to the operation",
)
