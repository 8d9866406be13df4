"""The kind and source of every check the kit runs: what a finding rests on, for the report.

Rule checks take theirs from the rule (each API's definition holds its rules), and a check whose
source differs by API from that API's facts (``ApiFacts.check_sources``). schemathesis' own
checks run on the vendor-only contract (:func:`usagemock.specs.vendor_view`), so what they hold
a server to is what the vendor documents, plus the few keywords marked ``x-usagemock-inferred``.
Kinds decide the verdict: a documented or inferred break fails the run, an assumed one is a
note.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from usagemock.apis import facts
from usagemock.rules import Kind, Source, assumed, documented, inferred

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

#: Stands for the judged API's vendor document in a shared source (filled in by :func:`source_of`).
EVERY_DOC = "<every vendor document>"

#: schemathesis' checks and ours, for every API; an API's ``check_sources`` win.
_SHARED: Mapping[str, Source] = {
    "response_headers_conformance": documented(
        EVERY_DOC, "the response headers its spec documents"
    ),
    "positive_data_acceptance": documented(
        EVERY_DOC, "each parameter's schema: a request within it is one the operation serves"
    ),
    "missing_required_header": assumed(
        "RFC 6750 section 3.1: 401 for a request without its bearer token (schemathesis' rule "
        "for a missing Authorization header; the specs declare no other required header)",
        "a vendor may document 403 for it too; credential_required judges what each allows",
    ),
    **dict.fromkeys(
        ("use_after_free", "ensure_resource_availability", "object_level_authorization"),
        documented(EVERY_DOC, "the links between operations its spec declares"),
    ),
    "not_a_server_error": inferred(
        "",
        "RFC 9110 section 15.6: a 5xx status says the server failed to fulfil the request",
        "no vendor describes a request its server cannot serve; a documented 500 is an error "
        "body, not a licence to fail",
    ),
    "unsupported_method": assumed(
        "RFC 9110 section 15.5.6: 405 with Allow for a method the resource does not support",
        "a vendor documents the methods it serves, not what the others get: that is HTTP's "
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
        EVERY_DOC,
        "each API's 200 for its operation, asked with a token that may read the org",
        "the samples ask for the orgs the token owns (--org-id, or the token's own org) with "
        "that token: the request each vendor documents a 200 for. A 401, 403 or 404 to it "
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
        EVERY_DOC, "its spec's paths and the methods it documents on each"
    ),
    CLIENT_BEARER_CREDENTIAL: documented(EVERY_DOC, "`security: - bearer_auth: []`"),
}

UNKNOWN = Source(Kind.DOCUMENTED, "the vendor-only contract of the operation")


def source_of(api: str, check: str) -> Source:
    """The kind and source of ``check`` as it judges ``api``."""
    api_facts = facts(api)
    for rule in api_facts.every_rule():
        if check == f"{api}_{rule.name}":
            return rule.source
    source = api_facts.check_sources.get(check) or _SHARED.get(check, UNKNOWN)
    if source.document == EVERY_DOC:
        # The run judges this API alone: its own vendor document, not every registered one.
        return dataclasses.replace(source, document=api_facts.doc)
    return source


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
