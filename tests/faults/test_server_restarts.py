"""Fault suite: the broker, then the database, restarted under a steady stream of work
(tests/faults/workload.py). Every request answered 2xx has had its effect exactly once, and
every service reconnects by itself: no process is restarted by hand."""
import time

import pytest

from shared.testing.infrastructure import can_restart_servers, restart_broker, restart_database
from shared.testing.waiting import wait_until
from tests.faults.workload import Workload, verdict

pytestmark = [pytest.mark.system,
              pytest.mark.skipif(not can_restart_servers(), reason="needs the local servers' control tools")]

SECONDS_OF_WORK_AROUND = 4


@pytest.mark.parametrize("restart, disruption", [
    (restart_broker, "RabbitMQ restarted"),
    (restart_database, "PostgreSQL restarted"),
], ids=["broker", "database"])
def test_a_server_restart_loses_nothing_and_doubles_nothing(system, infrastructure, fault_table, restart,
                                                              disruption):
    workload = Workload(system, infrastructure)

    def restart_under_load():
        time.sleep(SECONDS_OF_WORK_AROUND)
        restart()
        assert wait_until(lambda: system.request("GET", "/ready").status_code == 200, timeout=90, interval=1), \
            "the system did not come back by itself"
        time.sleep(SECONDS_OF_WORK_AROUND)

    workload.during(restart_under_load)
    rows, failures = verdict(workload, disruption)
    fault_table.extend(rows)
    assert not failures, failures
