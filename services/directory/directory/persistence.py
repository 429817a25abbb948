"""Unique-constraint violations as domain conflicts; records found again by Idempotency-Key."""
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from directory.errors import Conflict, ValidationFailed

MAX_IDEMPOTENCY_KEY = 200


@contextmanager
def unique_conflicts(session: Session, conflicts: dict[str, tuple[str, dict]]) -> Iterator[None]:
    """Run the block's changes and their flush in a savepoint. A violation of one of the named
    unique indexes raises a Conflict with that index's (detail, field errors); the savepoint's
    rollback undoes just those changes and leaves the surrounding transaction usable."""
    try:
        with session.begin_nested():
            yield
            session.flush()
    except IntegrityError as error:
        conflict = conflicts.get(getattr(error.orig.diag, "constraint_name", None))
        if conflict is None:
            raise
        raise Conflict(*conflict) from error


def made_with_idempotency_key(session: Session, model, org_id, key: str | None):
    """The record of ``model`` the program already made under ``key`` (the same request, sent
    again), or None; a key longer than any client needs is refused."""
    if key is None:
        return None
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise ValidationFailed("The Idempotency-Key header is too long.",
                               {"Idempotency-Key": [f"At most {MAX_IDEMPOTENCY_KEY} characters."]})
    return session.scalar(select(model).where(model.org_id == org_id, model.idempotency_key == key))
