"""Timbal: an org's overage credits, ``GET /orgs/{org_id}/billing/overage``.

``facts`` (what the kit needs: spec, rules, sources) imports only the rules and the specs;
``account`` is its domain model and ``mock`` its definition for the mock server.
"""
