"""The directory's domain errors are the platform's: they cross RPC with stable codes."""
from shared.errors import Conflict, NotFound, ValidationFailed

__all__ = ["Conflict", "NotFound", "ValidationFailed"]
