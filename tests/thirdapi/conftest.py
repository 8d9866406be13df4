"""Fixtures shared with the kit tests: serve an ASGI app on a loopback port."""

from tests.kit.conftest import serve  # noqa: F401  (a fixture, used by name)
