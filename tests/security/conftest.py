"""The attack suite's fixtures. Each module attacks a program of its own, signed up here, so
that what one module's attacks leave behind cannot mask another's."""
import pytest

from shared.testing.api import sign_up


@pytest.fixture(scope="module")
def program(system):
    return sign_up(system)
