"""commit_or_undo: what a change did outside its database (an invitation another service sent)
is taken back when the change itself cannot be saved. Unit level: the commit's failure is a
stand-in (a database that goes away at the last moment cannot be arranged otherwise)."""
import pytest
from sqlalchemy.exc import OperationalError

from shared.db import Undo, commit_or_undo
from shared.errors import Unavailable


class _Session:
    def __init__(self, commit_fails):
        self.commit_fails = commit_fails

    def commit(self):
        if self.commit_fails:
            raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))


def test_what_was_done_outside_is_undone_only_when_the_commit_fails():
    undone = []
    with pytest.raises(OperationalError):
        commit_or_undo(_Session(commit_fails=True), Undo("invitation 1", lambda: undone.append("invitation 1")))
    commit_or_undo(_Session(commit_fails=False), Undo("invitation 2", lambda: undone.append("invitation 2")))
    with pytest.raises(OperationalError):
        commit_or_undo(_Session(commit_fails=True), None)  # nothing was done outside
    assert undone == ["invitation 1"]


def test_a_failed_undo_is_logged_and_the_commits_failure_raised(caplog):
    def revoke_invitation():
        raise Unavailable("The identity service is not running")

    with pytest.raises(OperationalError):
        commit_or_undo(_Session(commit_fails=True), Undo("revoke invitation 3", revoke_invitation))
    assert "what was done for an unsaved change was not undone" in caplog.text
    assert caplog.records[-1].fields == {"undo": "revoke invitation 3", "error": "Unavailable"}
