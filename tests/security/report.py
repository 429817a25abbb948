"""Writes docs/security.md: what the attack suite tried and what came of it (`make security-report`).

Runs pytest over tests/security and the tests of tests/system it builds on (the permission,
tenancy and token walks, the log scan for secrets, the gateway's bad-input edge and the login
throttle), with a plugin that records every test's outcome and the fuzzing's answers by status,
then writes the report, failures included. A script rather than a conftest option because
conftest hooks only see the tests of their own directory.

    python tests/security/report.py [docs/security.md]
"""
import collections
import os
import platform
import sys
from datetime import datetime, timezone

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FUZZ = "tests/security/test_api_fuzzing.py"
PERMISSIONS = "tests/system/test_route_permissions.py"
TENANCY = "tests/system/test_tenancy_walk.py"
# What this report runs, in its order: a section's title, what its failed tests count as in the
# summary (the first three sections have counts of their own), and its files or file::test.
SECTIONS = [
    ("API fuzzing (schemathesis)", None, [FUZZ]),
    ("Missing permission and missing token", None, [PERMISSIONS]),
    ("Cross-tenant reads", None, [TENANCY]),
    ("Forged and misused tokens", "Forged or misused tokens let in", ["tests/system/test_token_attacks.py"]),
    ("Hostile input", "Hostile input not refused with a 4xx problem, or leaving something behind", [
        "tests/security/test_hostile_input.py", *(f"tests/system/test_http_edge.py::{name}" for name in (
            "test_malformed_json_is_400", "test_non_json_body_is_400", "test_json_that_is_not_an_object_is_422",
            "test_deeply_nested_json_is_refused_not_a_crash", "test_oversize_body_is_413"))]),
    ("SQL and formula injection in imports and exports",
     "Injection strings altered, run, or exported unquoted", ["tests/security/test_injection.py"]),
    ("Rate limits", "Limits that did not hold", [
        "tests/security/test_rate_limits.py",
        "tests/system/test_sessions.py::test_repeated_failures_throttle_the_account_then_the_window_lets_it_in"]),
    ("Logs", "Log scans that found secrets or client data",
     ["tests/system/test_log_hygiene.py", "tests/security/test_log_scan.py"]),
]


class Recorder:
    """Each test's outcome and user properties, by item (schemathesis's items, one per operation,
    share a node id under pytest 9: the operation is only in the item's name). A failed set-up or
    teardown makes the outcome "error"."""

    def __init__(self):
        self.tests = {}  # item -> {"file", "name", "param", "module_doc", "outcome", "properties"}

    def pytest_collection_modifyitems(self, items):
        for item in items:
            name, _, param = item.name.partition("[")
            self.tests[item] = {"file": item.nodeid.partition("::")[0], "name": name, "param": param.removesuffix("]"),
                                "module_doc": (item.module.__doc__ or "").strip(), "outcome": "not run",
                                "properties": {}}

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        test = self.tests[item]
        test["properties"].update(dict(item.user_properties))
        if report.failed:
            test["outcome"] = "failed" if report.when == "call" else "error"
        elif report.when == "call" or report.skipped:
            test["outcome"] = report.outcome
        return report


def tests_of(recorder, selection):
    file, _, name = selection.partition("::")
    return [t for t in recorder.tests.values() if t["file"] == file and (not name or t["name"] == name)]


def humane(name):
    return name.removeprefix("test_").replace("_", " ").capitalize()


def failed(tests):
    """Tests that did not pass: a finding, or a test that broke before its check (counted too)."""
    return sum(t["outcome"] != "passed" for t in tests)


def out_of(tests, noun):
    errors = sum(t["outcome"] in ("error", "not run") for t in tests)
    return f"of {len(tests)} {noun}" + (f" ({errors} broke before their check)" if errors else "")


def verdict(tests):
    count = failed(tests)
    return f"{len(tests)} of {len(tests)} passed" if not count else f"**{count} of {len(tests)} did not pass**"


def fuzz_tally(recorder):
    operations = [t for t in tests_of(recorder, FUZZ) if t["param"]]
    statuses = collections.Counter()
    for operation in operations:
        statuses.update(operation["properties"].get("statuses", {}))
    return operations, statuses


def summary(recorder):
    operations, statuses = fuzz_tally(recorder)
    without_permission = tests_of(recorder, f"{PERMISSIONS}::test_route_refuses_a_caller_without_its_permission")
    without_token = tests_of(recorder, f"{PERMISSIONS}::test_route_refuses_a_caller_without_a_token")
    tenancy = tests_of(recorder, TENANCY)
    rows = [
        ("API operations fuzzed", len(operations), f"{sum(statuses.values())} generated requests"),
        ("5xx answers", sum(count for status, count in statuses.items() if status >= 500), "over the whole API"),
        ("Operations answering off their documented status, content type or schema", failed(operations),
         out_of(operations, "operations")),
        ("Routes that let in a caller without the permission", failed(without_permission),
         out_of(without_permission, "routes walked")),
        ("Routes that let in a caller without a token", failed(without_token), out_of(without_token, "routes walked")),
        ("Cross-tenant reads", failed(tenancy), out_of(tenancy, "routes walked with another program's ids")),
    ]
    for _, label, selections in SECTIONS[3:]:
        tests = [t for selection in selections for t in tests_of(recorder, selection)]
        rows.append((label, failed(tests), out_of(tests, "tests")))
    lines = ["| measure | count | |", "|---|---:|---|"]
    lines += [f"| {measure} | {count} | {note} |" for measure, count, note in rows]
    return lines


def section(recorder, title, selections):
    """The section's files, each with its docstring (what was tried) and its tests' results."""
    lines = [f"## {title}"]
    for selection in selections:
        tests = tests_of(recorder, selection)
        if not tests:
            continue
        if "::" not in selection:
            lines += ["", tests[0]["module_doc"], ""]
        by_name = collections.defaultdict(list)
        for test in tests:
            by_name[test["name"]].append(test)
        for name, runs in by_name.items():
            lines.append(f"- {humane(name)} (`{tests[0]['file']}`): {verdict(runs)}")
            lines += [f"  - did not pass: `{t['param']}` ({t['outcome']})" for t in runs
                      if t["outcome"] != "passed" and t["param"]]
    return lines + [""]


def fuzz_appendix(recorder):
    operations, statuses = fuzz_tally(recorder)
    lines = ["## Appendix: the fuzzing's answers by operation", "",
             "Statuses of the generated requests (valid and invalid), per operation; all answers: "
             + ", ".join(f"{status} × {count}" for status, count in sorted(statuses.items())) + ".", "",
             "| operation | requests | statuses | result |", "|---|---:|---|---|"]
    for operation in operations:
        tally = operation["properties"].get("statuses", {})
        lines.append(f"| `{operation['param']}` | {sum(tally.values())} | "
                     + ", ".join(f"{status} × {count}" for status, count in sorted(tally.items()))
                     + f" | {operation['outcome']} |")
    return lines


def write(recorder, path, exitstatus):
    lines = ["# Security: what was tried and what came of it", "",
             "Regenerated by `make security-report` (runs `tests/security/`, which also runs in `make test`, "
             "and the tests of `tests/system/` listed below). Every service runs as its own process behind "
             "the gateway, against real PostgreSQL and RabbitMQ.",
             f"Last run: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.node() or 'a machine'} "
             f"({'passed' if exitstatus == 0 else 'FAILED'}).", "", *summary(recorder), ""]
    for title, _, selections in SECTIONS:
        lines += section(recorder, title, selections)
    lines += fuzz_appendix(recorder)
    with open(path, "w") as report:
        report.write("\n".join(lines) + "\n")


def main(path="docs/security.md"):
    os.chdir(ROOT)
    recorder = Recorder()
    selections = [selection for _, _, chosen in SECTIONS for selection in chosen]
    exitstatus = pytest.main(["-q", *selections], plugins=[recorder])
    write(recorder, path, exitstatus)
    print(f"wrote {path}")
    return int(exitstatus)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
