"""The HTTP edge: tokens, permissions, validation, routing to RPC, errors, OpenAPI."""
