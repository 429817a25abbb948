"""The tests under tests/ walk the running system (tests/system, tests/faults, tests/security).
It gets a vhost and databases of its own, apart from those of the integration tests under
services/ and shared/: the system's consumers, timers and import workers never meet the
containers and stand-in services those tests start, whichever of the two runs first."""
import pytest

from shared.testing.infrastructure import isolated_infrastructure


@pytest.fixture(scope="session")
def infrastructure():
    with isolated_infrastructure() as infra:
        yield infra
