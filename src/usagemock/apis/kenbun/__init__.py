"""Kenbun: the token's org's monthly event usage, ``GET /usage``.

``facts`` (what the kit needs: spec, rules, sources) imports only the rules and the specs;
``account`` is its domain model and ``mock`` its definition for the mock server.
"""
