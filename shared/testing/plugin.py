"""pytest plugin: the per-run infrastructure and the running system as fixtures."""
import pytest

from shared.testing.infrastructure import isolated_infrastructure


@pytest.fixture(scope="session")
def infrastructure():
    with isolated_infrastructure() as infra:
        yield infra


@pytest.fixture(scope="session")
def system(infrastructure, tmp_path_factory):
    """Every service and the gateway as their own processes, with a real SMTP server."""
    from shared.testing.system import running_system
    with running_system(infrastructure, tmp_path_factory.mktemp("system")) as running:
        yield running


@pytest.fixture
def mail(tmp_path):
    """A real SMTP server of the test's own; what it receives is readable as messages."""
    from shared.mail_catcher import MailCatcher
    from shared.testing.waiting import free_port
    with MailCatcher(free_port(), str(tmp_path / "mail")) as catcher:
        yield catcher
