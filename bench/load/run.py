"""The whole system under a mixed load, with one and then two instances of directory and
referrals, measured in one run (`make performance-report`). Not part of the test suite.

Every service and the gateway run as their own ``nameko run`` processes on an isolated vhost
with its own databases. A program is seeded through the API: providers, clients, a partner
organization with some of the clients shared with it, and a partner user. Then locust
(``bench/load/locustfile.py``, its own process) drives the mix for a bounded time: provider
searches (text, filters, near a postcode), referral lists built and sent by email, client
reads, and partner-portal reads. The same load runs again after a second process of directory
and of referrals has joined the first on their queues (competing consumers).

Prints and writes (``bench/results/load.json``) throughput, p50/p95/p99 and errors per
operation for both runs, the two-instance / one-instance ratios, and the CPU each process used.
Exit status 1 if any request failed.

    .venv/bin/python bench/load/run.py [--seconds 60] [--users 16]
"""
import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import time
import warnings
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import psutil  # comes with locust

HERE = Path(__file__).resolve().parent
BENCH = HERE.parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
sys.path[:0] = [str(ROOT), str(BENCH)]

from measure import run_facts  # noqa: E402

# shared.db imports eventlet, which warns that it is deprecated; nothing in this process is green.
warnings.filterwarnings("ignore", message="\nEventlet is deprecated")

SCALED_OUT = ("directory", "referrals")
FIRST_NAMES = ("Maya", "Jordan", "Alex", "Riley", "Casey", "Devon", "Priya", "Luis", "Amara", "Noah")
LAST_NAMES = ("Student", "Rivera", "Okafor", "Chen", "Nguyen", "Haddad", "Kowalski", "Brennan")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="measured load per run")
    parser.add_argument("--warmup-seconds", type=int, default=10, help="unmeasured load before each run")
    parser.add_argument("--users", type=int, default=16, help="concurrent locust users")
    parser.add_argument("--providers", type=int, default=300)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--shared-clients", type=int, default=20)
    parser.add_argument("--output", default=str(RESULTS / "load.json"))
    args = parser.parse_args(argv)

    from shared.testing.infrastructure import isolated_infrastructure
    from shared.testing.system import running_system

    log_dir = RESULTS / "logs" / f"load-{time.strftime('%Y%m%d-%H%M%S')}"
    log_dir.mkdir(parents=True, exist_ok=True)
    print(f"Starting an isolated vhost + databases, every service and the gateway (logs: {log_dir}) ...",
          flush=True)
    runs = {}
    with isolated_infrastructure() as infra, running_system(infra, log_dir) as system:
        print(f"Seeding {args.providers} providers, {args.clients} clients, a partner with "
              f"{args.shared_clients} shared clients and a partner user ...", flush=True)
        seeded, logins = seed(system, infra, args)
        for instances in (1, 2):
            if instances == 2:
                for name in SCALED_OUT:
                    print(f"Starting {system.start_replica(name)} ...", flush=True)
            key = f"{instances}_instance{'s' if instances > 1 else ''}"
            print(f"Load with {instances} instance(s) of {' and '.join(SCALED_OUT)}: {args.users} users, "
                  f"{args.warmup_seconds} s warm-up, {args.seconds} s measured ...", flush=True)
            runs[key] = {"instances": {name: instances for name in SCALED_OUT},
                         **measured_run(system, infra, seeded, logins, args, log_dir / key)}

    one, two = runs["1_instance"], runs["2_instances"]
    report = {"benchmark": "load", **run_facts(),
              "parameters": {"seconds": args.seconds, "warmup_seconds": args.warmup_seconds, "users": args.users,
                             "providers": args.providers, "clients": args.clients,
                             "shared_clients": args.shared_clients,
                             "client": "locust FastHttpUser in its own process, no think time"},
              "runs": runs, "ratio_two_over_one": ratios(one, two)}
    print_table(report)
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nResults written to {output}")
    failed = [(key, failure) for key, run in runs.items() for failure in run["failures"]]
    for key, failure in failed:
        print(f"{key}: {failure['occurrences']} x {failure['operation']}: {failure['error']}", file=sys.stderr)
    return 1 if failed else 0


# ---------------------------------------------------------------------------------------------
# Seeding, through the API as a program would
# ---------------------------------------------------------------------------------------------

def seed(system, infra, args):
    """What the workload reads and writes; and, by the seed file's key for each token, the
    accounts to log in before each run (an access token lasts 15 minutes)."""
    from directory.demo import BOSTON_AREA_ZIPS, generate_providers
    from shared.testing.api import add_staff_member, sign_up

    program = sign_up(system)

    def created(path, body):
        response = system.request("POST", path, token=program.access_token, json=body)
        if response.status_code != 201:
            raise RuntimeError(f"seeding {path}: {response.status_code} {response.text[:300]}")
        return response.json()["id"]

    provider_ids = [created("/api/v1/providers", body) for body in generate_providers(args.providers)]
    client_ids = [created("/api/v1/clients", a_client(i)) for i in range(args.clients)]
    partner_id = created("/api/v1/partners", {
        "name": "Eastside Housing", "phone": "+15550001111", "contact_name": "Pat Partner",
        "address": {"line1": "1 Main St", "city": "Boston", "state": "MA", "postal_code": "02139"},
        "contact_email": "pat@eastside.example.org", "sharing_enabled": True})
    shared_client_ids = client_ids[:args.shared_clients]
    for client_id in shared_client_ids:
        created(f"/api/v1/clients/{client_id}/shares", {"partner_id": partner_id, "note": "Please check in weekly",
                                                        "consent": a_consent()})
    _, partner_email = add_staff_member(infra, program, "partner", linked_id=partner_id)
    seeded = {"provider_ids": provider_ids, "client_ids": client_ids, "shared_client_ids": shared_client_ids,
              "postcodes": list(BOSTON_AREA_ZIPS)}
    return seeded, {"staff_token": program.email, "partner_token": partner_email}


def a_client(number):
    return {"first_name": FIRST_NAMES[number % len(FIRST_NAMES)], "last_name": LAST_NAMES[number % len(LAST_NAMES)],
            "date_of_birth": date(1960 + number % 45, 1 + number % 12, 1 + number % 28).isoformat(),
            "email": f"client-{number}@example.org", "phone": f"+1555{number:07d}", "preferred_contact": "email"}


def a_consent():
    return {"purpose": "Coordinate housing support", "information_disclosed": "Name, photo and contact details",
            "disclosed_by": "Riverside Counseling Center", "agreed_by": "The client",
            "expires_at": (datetime.now(timezone.utc) + timedelta(days=90)).isoformat(),
            "agreed_on": date.today().isoformat(), "revocation_acknowledged": True}


# ---------------------------------------------------------------------------------------------
# One run: warm-up, measured locust run, its CSV stats and the CPU each process used
# ---------------------------------------------------------------------------------------------

def measured_run(system, infra, seeded, logins, args, run_dir):
    from shared.testing.api import log_in

    run_dir.mkdir(parents=True, exist_ok=True)
    seed_file = run_dir / "seed.json"
    seed_file.write_text(json.dumps({**seeded, **{key: log_in(system, email) for key, email in logins.items()}}))
    if args.warmup_seconds:
        run_locust(system.base_url, seed_file, args.users, args.warmup_seconds, run_dir / "warmup")
    cpu_before = cpu_by_process(system, infra.database_prefix)
    locust_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    psutil.cpu_percent()  # starts the machine-wide measurement interval
    started = time.monotonic()
    run_locust(system.base_url, seed_file, args.users, args.seconds, run_dir / "measured")
    elapsed = time.monotonic() - started
    busy = psutil.cpu_percent()
    locust_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_after = cpu_by_process(system, infra.database_prefix)
    cores = {name: round(sum(seconds - cpu_before.get(name, {}).get(pid, 0) for pid, seconds in pids.items())
                         / elapsed, 2) for name, pids in cpu_after.items()}
    system_cores = round(sum(cores.values()), 2)
    cores["locust"] = round((locust_after.ru_utime + locust_after.ru_stime
                             - locust_before.ru_utime - locust_before.ru_stime) / elapsed, 2)
    stats = locust_stats(run_dir / "measured")
    stats["total"]["requests_per_core_second"] = round(stats["total"]["throughput_rps"] / system_cores, 1)
    return {**stats, "cpu": {"machine_busy_percent": busy, "system_cores": system_cores,
                             "cores_used": dict(sorted(cores.items(), key=lambda kv: -kv[1]))}}


def cpu_by_process(system, database_prefix):
    """CPU seconds so far of each of the system's processes, and of the PostgreSQL sessions on
    its databases (found by the database name in their process title), by pid. RabbitMQ is
    one process for every vhost on the machine, so its share cannot be told apart."""
    groups = {name: [process.pid] for name, process in system.processes.items()}
    groups["postgres sessions"] = [process.pid for process in psutil.process_iter(["cmdline"])
                                   if database_prefix in " ".join(process.info["cmdline"] or ())]
    seconds = {}
    for name, pids in groups.items():
        seconds[name] = {}
        for pid in pids:
            try:
                times = psutil.Process(pid).cpu_times()
            except psutil.Error:  # a session that closed meanwhile
                continue
            seconds[name][pid] = times.user + times.system
    return seconds


def run_locust(host, seed_file, users, seconds, csv_prefix):
    with open(f"{csv_prefix}.log", "wb") as log:
        completed = subprocess.run(
            [sys.executable, "-m", "locust", "--headless", "--only-summary", "-f", str(HERE / "locustfile.py"),
             "--host", host, "--users", str(users), "--spawn-rate", str(users), "--run-time", f"{seconds}s",
             "--csv", str(csv_prefix)],
            cwd=ROOT, env={**os.environ, "HANDOFF_LOAD_SEED": str(seed_file)}, stdout=log,
            stderr=subprocess.STDOUT, timeout=seconds + 120)
    # locust exits 1 when a request failed (counted from its CSV); anything else is a crash.
    if completed.returncode not in (0, 1) or not Path(f"{csv_prefix}_stats.csv").exists():
        raise RuntimeError(f"locust exited {completed.returncode}; see {csv_prefix}.log")


def locust_stats(csv_prefix):
    with open(f"{csv_prefix}_stats.csv", newline="") as f:
        rows = {row["Name"]: row for row in csv.DictReader(f)}
    with open(f"{csv_prefix}_failures.csv", newline="") as f:
        failures = [{"operation": row["Name"], "error": row["Error"], "occurrences": int(row["Occurrences"])}
                    for row in csv.DictReader(f)]
    total = rows.pop("Aggregated")
    return {"operations": {name: figures(row) for name, row in sorted(rows.items())}, "total": figures(total),
            "failures": failures}


def figures(row):
    def milliseconds(column):  # locust writes "N/A" where an operation never ran
        return None if row[column] == "N/A" else float(row[column])

    return {"requests": int(row["Request Count"]), "errors": int(row["Failure Count"]),
            "throughput_rps": round(float(row["Requests/s"]), 1),
            "p50_ms": milliseconds("50%"), "p95_ms": milliseconds("95%"), "p99_ms": milliseconds("99%")}


# ---------------------------------------------------------------------------------------------
# Comparison and output
# ---------------------------------------------------------------------------------------------

def ratios(one, two):
    def ratio(new, old):
        return round(new / old, 2) if new and old else None

    def compared(a, b):
        return {"throughput": ratio(b["throughput_rps"], a["throughput_rps"]),
                **{p: ratio(b[f"{p}_ms"], a[f"{p}_ms"]) for p in ("p50", "p95", "p99")}}

    return {"total": {**compared(one["total"], two["total"]),
                      "requests_per_core_second": ratio(two["total"]["requests_per_core_second"],
                                                        one["total"]["requests_per_core_second"])},
            "operations": {name: compared(figures_one, two["operations"][name])
                           for name, figures_one in one["operations"].items() if name in two["operations"]}}


def print_table(report):
    ratio = report["ratio_two_over_one"]
    for key, run in report["runs"].items():
        print(f"\n{key.replace('_', ' ')} of {', '.join(run['instances'])}")
        print(f"{'operation':<32}{'requests':>9}{'errors':>7}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}")
        for name, row in [*run["operations"].items(), ("all", run["total"])]:
            print(f"{name:<32}{row['requests']:>9}{row['errors']:>7}{row['throughput_rps']:>8.1f}"
                  + "".join(f"{'-' if row[p] is None else round(row[p]):>8}" for p in ("p50_ms", "p95_ms", "p99_ms")))
        used = ", ".join(f"{name} {cores}" for name, cores in run["cpu"]["cores_used"].items() if cores >= 0.05)
        print(f"CPU: machine {run['cpu']['machine_busy_percent']}% busy; cores used by {used}; "
              f"{run['total']['requests_per_core_second']} requests per CPU-second of the system")
    print(f"\n{'two / one instance':<32}{'req/s':>8}{'p50':>8}{'p95':>8}{'p99':>8}")
    for name, row in [*ratio["operations"].items(), ("all", ratio["total"])]:
        print(f"{name:<32}" + "".join(f"{'-' if row[k] is None else f'{row[k]:.2f}x':>8}"
                                      for k in ("throughput", "p50", "p95", "p99")))
    print(f"requests per CPU-second of the system: {ratio['total']['requests_per_core_second']:.2f}x")


if __name__ == "__main__":
    sys.exit(main())
