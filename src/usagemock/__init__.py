"""usagemock: an OpenAPI-driven mock server and contract-test kit for usage and billing APIs."""

from importlib.metadata import version

__version__ = version("usagemock")
__all__ = ["__version__"]
