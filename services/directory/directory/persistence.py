"""Unique-constraint violations as domain conflicts."""
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from directory.errors import Conflict


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
