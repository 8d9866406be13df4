"""The web layer: a connexion app per API, auth, error bodies. Calls the domain, never the CLI."""

from __future__ import annotations

import warnings

# connexion 3.3 imports starlette's TestClient, which warns under starlette >= 1.0 that it
# prefers httpx2, and jsonschema's deprecated RefResolver API (upstream's to fix). Neither is
# used by the mock, and a warning raised while connexion loads lands in whatever imported us:
# a user's pytest suite with -W error would fail on the usagemock_app fixture. So exactly these
# three are silenced, only while connexion loads; every other warning, and the host's filters,
# stay as they are.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", r"Using `httpx` with `starlette\.testclient`")
    warnings.filterwarnings("ignore", r"jsonschema\.RefResolver is deprecated", DeprecationWarning)
    warnings.filterwarnings(
        "ignore", r"jsonschema\.exceptions\.RefResolutionError is deprecated", DeprecationWarning
    )
    import connexion  # noqa: F401  (loaded here, once, so the filters above apply to it)
