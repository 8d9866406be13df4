"""usagemock: an OpenAPI-driven mock server and contract-test kit for usage and billing APIs."""

__version__ = "0.1.0"
__all__ = ["__version__"]
