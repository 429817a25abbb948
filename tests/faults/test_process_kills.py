"""Fault suite: under a steady stream of work (tests/faults/workload.py), each service and then
the gateway is killed with SIGKILL and restarted. Afterwards every request answered 2xx has had
its effect exactly once, and the system serves again without a manual step."""
import time

import pytest

from tests.faults.workload import Workload, verdict

pytestmark = pytest.mark.system

KILL_ORDER = ("directory", "referrals", "notify", "identity", "billing", "sharing", "gateway")
SECONDS_BETWEEN_KILLS = 4


def test_killing_each_process_loses_nothing_and_doubles_nothing(system, infrastructure, fault_table):
    # The run's shared system: it must come back by itself, which the other tests then rely on.
    workload = Workload(system, infrastructure)

    def kill_each_in_turn():
        for name in KILL_ORDER:
            time.sleep(SECONDS_BETWEEN_KILLS)
            system.kill(name)  # SIGKILL: no clean shutdown
            time.sleep(1)
            system.start(name)
            system.wait_ready()
        time.sleep(SECONDS_BETWEEN_KILLS)

    workload.during(kill_each_in_turn)
    rows, failures = verdict(workload, "kill -9 each process in turn")
    fault_table.extend(rows)
    assert not failures, failures
    assert system.request("GET", "/ready").status_code == 200
