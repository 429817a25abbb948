"""Renders ``docs/performance.md`` from the benchmarks' result files in ``bench/results/``:
for each benchmark our figure beside the baseline measured in the same run and their ratio,
then each benchmark's detail, the load runs' table among them. With ``--run`` (what
``make performance-report`` does) it first runs every benchmark at the modest sizes of
``BENCHMARKS``, one after another (together well under 15 minutes on 2 cores).

    .venv/bin/python bench/report.py [--run] [--output docs/performance.md]
"""
import argparse
import datetime
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

# Result file stem -> (title, the command --run runs, from the repository root); also the report's order.
BENCHMARKS = {
    "gateway_overhead": ("Gateway overhead", "bench/gateway_overhead.py --requests 1000"),
    "directory_search": ("Directory search and import",
                         "bench/directory_search.py --providers 20000 --requests 50 --import-rows 5000"),
    "notify_throughput": ("Notify throughput", "bench/notify_throughput.py --messages 300"),
    "referral_sends": ("Referral list sends", "bench/referral_sends.py --lists 200"),
    "load": ("Mixed load, one and two instances", "bench/load/run.py --seconds 60"),
}


def number(value, digits=1):
    if value is None:
        return "–"
    return f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def times(value):
    if value is None:
        return "–"
    return f"{value:.2f}×" if value >= 0.1 else f"{value:.2g}×"  # two significant figures for the small ones


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |",
             "| " + " | ".join("---" if i == 0 else "---:" for i in range(len(header))) + " |"]
    return lines + ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]


# ---------------------------------------------------------------------------------------------
# One renderer per benchmark: (summary rows, detail lines) from its result file
# ---------------------------------------------------------------------------------------------

def gateway_overhead(result):
    ours, floor, ratio = result["results"]["gateway"], result["results"]["baseline"], result["ratio"]
    summary = [("Gateway `GET /api/v1/me`, requests/s", number(ours["throughput_rps"]),
                f"bare nameko `@http` + 1 RPC no-op: {number(floor['throughput_rps'])}",
                times(ratio["throughput_gateway_over_baseline"]))]
    detail = table(("target", "requests", "errors", "req/s", "p50 ms", "p99 ms"), [
        (row["label"], number(row["requests"]), row["errors"], number(row["throughput_rps"]),
         number(row["p50_ms"], 2), number(row["p99_ms"], 2)) for row in (ours, floor)] + [
        ("**gateway / bare**", "", "", times(ratio["throughput_gateway_over_baseline"]),
         times(ratio["p50_gateway_over_baseline"]), times(ratio["p99_gateway_over_baseline"]))])
    return summary, detail


def directory_search(result):
    search, bulk = result["search"], result["import"]
    worst = max(search, key=lambda name: search[name]["p95_ratio"])
    summary = [
        (f"Provider search p95 ms, worst of {len(search)} queries ({worst})", number(search[worst]["gateway"]["p95_ms"], 2),
         f"the same SQL over psycopg2: {number(search[worst]['raw_sql']['p95_ms'], 2)}",
         times(search[worst]["p95_ratio"])),
        ("Provider import, rows/s", number(bulk["import_rows_per_s"]), f"PostgreSQL `COPY`: {number(bulk['copy_rows_per_s'])}",
         times(bulk["import_over_copy"])),
    ]
    detail = table(("query", "gateway p50 ms", "gateway p95 ms", "raw SQL p50 ms", "raw SQL p95 ms", "p95 ratio"), [
        (name, number(row["gateway"]["p50_ms"], 2), number(row["gateway"]["p95_ms"], 2),
         number(row["raw_sql"]["p50_ms"], 2), number(row["raw_sql"]["p95_ms"], 2), times(row["p95_ratio"]))
        for name, row in search.items()])
    floor = result["request_floor"]
    detail += ["", f"The floor of any request through HTTP and one RPC (a bare nameko `@http` entrypoint "
               f"calling a no-op RPC), measured in the same run: p50 {number(floor['p50_ms'], 2)} ms, "
               f"p95 {number(floor['p95_ms'], 2)} ms."]
    detail += ["", f"Import of a {number(bulk['rows'])}-row CSV: {number(bulk['import_rows_per_s'])} rows/s through the "
               f"directory's import job, {number(bulk['copy_rows_per_s'])} rows/s by `COPY` into a bare table "
               f"({times(bulk['import_over_copy'])}); the job {bulk['import_outcome']['status']} with "
               f"{number(bulk['import_outcome']['created'])} created and {bulk['import_outcome']['failed']} failed. "
               f"`COPY` of the same rows into the providers table itself, with its search indexes but no search "
               f"columns, history or checks: {number(bulk['copy_into_providers_rows_per_s'])} rows/s "
               f"({times(bulk['copy_into_providers_over_copy'])} of the bare table), the ceiling of any import path."]
    return summary, detail


def email_path(label, ours, floor, ratio, note):
    """notify_throughput and referral_sends: an email path beside the smtplib floor."""
    summary = [(f"{label}, messages/s", number(ours["per_second"]),
                f"plain smtplib, one connection: {number(floor['per_second'])}", times(ratio))]
    detail = table(("path", "messages", "delivered", "msg/s", "p50 ms", "p99 ms"), [
        (label, number(ours["messages"]), number(ours["delivered"]), number(ours["per_second"]),
         number(ours["p50_ms"]), number(ours["p99_ms"])),
        ("smtplib floor (one connection)", number(floor["messages"]), number(floor["messages"]),
         number(floor["per_second"]), "", ""),
        ("**ours / floor**", "", "", times(ratio), "", "")])
    return summary, detail + ["", note]


def notify_throughput(result):
    return email_path("Event → notify → SMTP inbox", result["notify"], result["smtplib_floor"],
                      result["throughput_ratio"], "Latency is from each event's publish to its arrival, for a "
                      "burst published at once, so it includes the wait behind the burst.")


def referral_sends(result):
    sends = result["sends"]
    return email_path("Send call → referrals → notify → inbox", sends, result["smtplib_floor"],
                      result["throughput_ratio"],
                      f"Send calls answered at {number(sends['send_calls_per_second'])}/s with {sends['errors']} errors; "
                      f"the lists were built beforehand at {number(result['list_builds_per_second'])}/s (not in the ratio).")


def load(result):
    one, two = result["runs"]["1_instance"], result["runs"]["2_instances"]
    ratio = result["ratio_two_over_one"]
    scaled = " and ".join(two["instances"])
    summary = [(f"Mixed load with two instances of {scaled}, requests/s",
                f"{number(two['total']['throughput_rps'])} ({two['total']['errors']} errors)",
                f"one instance of each: {number(one['total']['throughput_rps'])} ({one['total']['errors']} errors)",
                times(ratio["total"]["throughput"]))]
    rows = []
    for name in [*one["operations"], "all"]:
        for instances, run in ((1, one), (2, two)):
            row = run["total"] if name == "all" else run["operations"].get(name)
            compared = (ratio["total"] if name == "all" else ratio["operations"].get(name)) if instances == 2 else None
            rows.append((f"**{name}**" if name == "all" else name, instances, number(row["requests"]), row["errors"],
                         number(row["throughput_rps"]), number(row["p50_ms"], 0), number(row["p95_ms"], 0),
                         number(row["p99_ms"], 0), times(compared["throughput"]) if compared else "",
                         times(compared["p95"]) if compared else ""))
    parameters = result["parameters"]
    detail = [f"{parameters['users']} concurrent users ({parameters['client']}), {parameters['warmup_seconds']} s "
              f"warm-up then {parameters['seconds']} s measured per run; {parameters['providers']} providers, "
              f"{parameters['clients']} clients, {parameters['shared_clients']} of them shared with a partner. "
              f"Only {scaled} get a second instance; the gateway and every other service run once. "
              "Latencies in ms (locust rounds them to 2 significant figures above 100 ms). A second instance adds "
              "workers, not CPU: while the machine is saturated (the CPU lines below) the ratio shows the same cores "
              "shared by more processes, not the capacity of more nodes; see "
              "[bench/README.md](../bench/README.md#loadrunpy).", ""]
    detail += table(("operation", "instances", "requests", "errors", "req/s", "p50", "p95", "p99",
                     "req/s 2 / 1", "p95 2 / 1"), rows) + [""]
    for key, run in result["runs"].items():
        cpu = run["cpu"]
        used = ", ".join(f"{name} {cores}" for name, cores in cpu["cores_used"].items() if cores >= 0.05)
        detail.append(f"- CPU, {key.replace('_', ' ')}: the machine {cpu['machine_busy_percent']}% busy; the system "
                      f"(its processes and PostgreSQL sessions) used {cpu['system_cores']} of its "
                      f"{result['machine']['cpus']} cores, {number(run['total']['requests_per_core_second'])} "
                      f"requests per CPU-second; by process: {used}.")
    detail.append(f"- Requests per CPU-second of the system, two instances / one: "
                  f"{times(ratio['total']['requests_per_core_second'])}.")
    return summary, detail


RENDERERS = {"gateway_overhead": gateway_overhead, "directory_search": directory_search,
             "notify_throughput": notify_throughput, "referral_sends": referral_sends, "load": load}


# ---------------------------------------------------------------------------------------------
# The document
# ---------------------------------------------------------------------------------------------

def render(results_dir):
    summary_rows, sections, machines = [], [], set()
    for stem, (title, command) in BENCHMARKS.items():
        path = results_dir / f"{stem}.json"
        sections += ["", f"## {title}", "", f"`.venv/bin/python {command}`", ""]
        if not path.exists():
            summary_rows.append((title, "not run", "", ""))
            sections.append(f"Not run: no `{path.name}` in the results.")
            continue
        result = json.loads(path.read_text())
        summary, detail = RENDERERS[stem](result)
        summary_rows += summary
        when = result.get("when") or datetime.datetime.fromtimestamp(path.stat().st_mtime, datetime.timezone.utc) \
            .isoformat(timespec="seconds")
        sections += [f"Measured {when}" + (f" at commit `{result['commit']}`" if result.get("commit") else "") + ".",
                     ""] + detail
        if "machine" in result:
            machines.add(f"{result['machine']['cpus']} CPUs, Python {result['machine']['python']}, "
                         f"{result['machine']['platform']}")
    head = [
        "# Performance",
        "",
        "Generated by `make performance-report` (`bench/report.py` from `bench/results/*.json`); do not edit by hand.",
        "How each benchmark works is in [bench/README.md](../bench/README.md).",
        "",
        "Every figure stands beside a baseline measured in the same run, on the same machine, under the same",
        "load from other work: the client, RabbitMQ, PostgreSQL and every service share the machine, so absolute",
        "figures move from run to run while the ratio is the figure to compare across runs and commits.",
        "A throughput ratio below 1× is the share of the baseline's rate we reach; a latency ratio above 1× is",
        "how many times slower we are.",
    ]
    if machines:
        head += ["", "Machine: " + "; ".join(sorted(machines)) + "."]
    head += ["", "## Summary", ""]
    head += table(("benchmark", "ours", "in-run baseline", "ratio"), summary_rows)
    return "\n".join(head + sections) + "\n"


def run_benchmarks():
    """Each benchmark in turn, never two at once (they would measure each other); the names of
    those that failed."""
    failed = []
    for stem, (title, command) in BENCHMARKS.items():
        print(f"\n=== {title}: {command}", flush=True)
        if subprocess.run([sys.executable, *command.split()], cwd=ROOT).returncode:
            failed.append(stem)
    return failed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", action="store_true", help="run every benchmark first")
    parser.add_argument("--output", default=str(ROOT / "docs" / "performance.md"))
    args = parser.parse_args(argv)
    failed = run_benchmarks() if args.run else []
    output = Path(args.output)
    output.write_text(render(HERE / "results"))
    print(f"\nWritten {output}")
    if failed:
        print(f"Failed (errors, or no result): {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
