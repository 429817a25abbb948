"""The directory's domain errors are the platform's: they cross RPC with stable codes."""
from shared.errors import Conflict, Gone, NotFound, ValidationFailed

__all__ = ["Conflict", "Gone", "NotFound", "ValidationFailed"]
