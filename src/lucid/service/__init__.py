"""The HTTP service: FastAPI routes over the same use cases as the SDK and the CLI."""
