"""What the real gateway path costs over nameko's floor, measured in one run (`make bench`).

  (a) ``GET /api/v1/me`` with a bearer token through the real gateway, every service running:
      token check (EdDSA signature, exp/iss/aud, revocation set), route match, one RPC to
      identity, which reads the caller from its database, response schema, problem mapping,
      metrics;
  (b) the floor: a bare nameko ``@http`` endpoint in a tiny service of this file's own that makes
      one RPC to another tiny service doing nothing (``@rpc def noop(self): return None``).

Both run as ``nameko run`` processes on the same RabbitMQ vhost (an isolated one, with its own
databases, from ``shared.testing.infrastructure``), and are driven by the same client: a bounded
number of requests at a fixed concurrency, one ``requests.Session`` per green thread, after a
warm-up, in alternating rounds so a drift in the machine affects both alike. Prints a table and
writes ``bench/results/gateway_overhead.json``. Not part of the test suite.

    .venv/bin/python bench/gateway_overhead.py [--requests 2000] [--concurrency 8]
"""
import warnings

warnings.filterwarnings("ignore", message="\nEventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()  # before anything opens a socket: the load generator is green threads

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

import requests  # noqa: E402
from nameko.rpc import RpcProxy, rpc  # noqa: E402
from nameko.web.handlers import http  # noqa: E402
from werkzeug.wrappers import Response  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
if str(ROOT) not in sys.path:  # works without the virtualenv's handoff.pth too
    sys.path.insert(0, str(ROOT))

from measure import percentile, run_facts  # noqa: E402


# ---------------------------------------------------------------------------------------------
# The baseline pair, started by `nameko run gateway_overhead:<Class>` from this directory.
# ---------------------------------------------------------------------------------------------

class BenchNoopService:
    name = "bench_noop"

    @rpc
    def noop(self):
        return None


class BenchHttpService:
    name = "bench_http"

    noop_service = RpcProxy("bench_noop")

    @http("GET", "/noop")
    def noop(self, request):
        self.noop_service.noop()
        return Response('{"ok":true}', mimetype="application/json")


# ---------------------------------------------------------------------------------------------
# Load
# ---------------------------------------------------------------------------------------------

def drive(url, headers, count, concurrency):
    """``count`` GETs of ``url`` from ``concurrency`` green threads; latencies in seconds."""
    tickets = itertools.count()
    latencies, failures = [], []

    def worker():
        with requests.Session() as session:
            session.headers.update(headers)
            while next(tickets) < count:
                started = time.perf_counter()
                try:
                    response = session.get(url, timeout=30)
                    response.content
                    ok = response.status_code == 200
                    detail = f"{response.status_code} {response.text[:200]}"
                except requests.RequestException as exc:
                    ok, detail = False, repr(exc)
                latencies.append(time.perf_counter() - started)
                if not ok:
                    failures.append(detail)

    pool = eventlet.GreenPool(concurrency)
    started = time.perf_counter()
    for _ in range(concurrency):
        pool.spawn(worker)
    pool.waitall()
    return latencies, failures, time.perf_counter() - started


class Target:
    def __init__(self, key, label, url, headers=None):
        self.key, self.label, self.url, self.headers = key, label, url, headers or {}
        self.latencies, self.failures, self.elapsed = [], [], 0.0

    def run(self, count, concurrency, record=True):
        latencies, failures, elapsed = drive(self.url, self.headers, count, concurrency)
        if failures and not record:
            raise RuntimeError(f"{self.label}: warm-up failed: {failures[0]}")
        if record:
            self.latencies += latencies
            self.failures += failures
            self.elapsed += elapsed

    def summary(self):
        ordered = sorted(self.latencies)
        return {"label": self.label, "path": urlsplit(self.url).path,
                "requests": len(ordered), "errors": len(self.failures),
                "first_error": self.failures[0] if self.failures else None,
                "seconds": round(self.elapsed, 3),
                "throughput_rps": round(len(ordered) / self.elapsed, 1) if self.elapsed else None,
                "p50_ms": round(percentile(ordered, 0.50) * 1000, 2),
                "p90_ms": round(percentile(ordered, 0.90) * 1000, 2),
                "p99_ms": round(percentile(ordered, 0.99) * 1000, 2),
                "mean_ms": round(sum(ordered) / len(ordered) * 1000, 2) if ordered else None}


# ---------------------------------------------------------------------------------------------
# The two systems
# ---------------------------------------------------------------------------------------------

def start_baseline(infra, port, log_dir):
    """The bare pair as two `nameko run` processes (like the real gateway and identity)."""
    processes = []
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), str(ROOT), os.environ.get("PYTHONPATH")])),
           "PYTHONWARNINGS": "ignore"}
    for cls, workers in (("BenchNoopService", 10), ("BenchHttpService", 50)):  # as identity / gateway
        config = log_dir / f"{cls}.yml"
        # JSON is YAML, and quotes the vhost in the URI safely.
        config.write_text(json.dumps({"AMQP_URI": infra.amqp_uri, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
                                      "max_workers": workers}))
        log = open(log_dir / f"{cls}.log", "ab")
        processes.append((subprocess.Popen(
            [sys.executable, "-m", "nameko", "run", "--config", str(config), f"gateway_overhead:{cls}"],
            cwd=str(HERE), env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True), log))
    deadline = time.monotonic() + 60
    url = f"http://127.0.0.1:{port}/noop"
    while True:
        for process, _ in processes:
            if process.poll() is not None:
                raise RuntimeError(f"baseline process exited ({process.returncode}); see {log_dir}")
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return processes, url
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"baseline not answering at {url}; see {log_dir}")
        time.sleep(0.3)


def stop_baseline(processes):
    for process, _ in processes:
        process.terminate()
    for process, log in processes:
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per target")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=200, help="unmeasured requests per target first")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds the requests are split into")
    parser.add_argument("--output", default=str(RESULTS / "gateway_overhead.json"))
    args = parser.parse_args(argv)

    from shared.testing.api import sign_up
    from shared.testing.infrastructure import isolated_infrastructure
    from shared.testing.system import running_system
    from shared.testing.waiting import free_port

    log_dir = RESULTS / "logs" / time.strftime("%Y%m%d-%H%M%S")
    log_dir.mkdir(parents=True, exist_ok=True)
    print(f"Starting an isolated vhost + databases, every service and the gateway (logs: {log_dir}) ...",
          flush=True)
    with isolated_infrastructure() as infra, running_system(infra, log_dir) as system:
        program = sign_up(system)
        me = system.request("GET", "/api/v1/me", token=program.access_token)
        assert me.status_code == 200, me.text
        baseline, baseline_url = start_baseline(infra, free_port(), log_dir)
        try:
            targets = [
                Target("gateway", "gateway GET /api/v1/me (auth + 1 RPC + DB)", system.url("/api/v1/me"),
                       {"Authorization": f"Bearer {program.access_token}"}),
                Target("baseline", "bare nameko @http + 1 RPC noop", baseline_url),
            ]
            print(f"Warm-up: {args.warmup} requests per target ...", flush=True)
            for target in targets:
                target.run(args.warmup, args.concurrency, record=False)
            per_round = [args.requests // args.rounds + (1 if i < args.requests % args.rounds else 0)
                         for i in range(args.rounds)]
            for number, count in enumerate(per_round, 1):
                for target in (targets if number % 2 else targets[::-1]):
                    print(f"Round {number}/{args.rounds}: {count} requests, concurrency "
                          f"{args.concurrency} -> {target.label}", flush=True)
                    target.run(count, args.concurrency)
        finally:
            stop_baseline(baseline)

    results = {target.key: target.summary() for target in targets}
    gateway, floor = results["gateway"], results["baseline"]
    ratio = {
        "throughput_gateway_over_baseline": round(gateway["throughput_rps"] / floor["throughput_rps"], 3),
        "p50_gateway_over_baseline": round(gateway["p50_ms"] / floor["p50_ms"], 3),
        "p99_gateway_over_baseline": round(gateway["p99_ms"] / floor["p99_ms"], 3),
    }
    report = {
        "benchmark": "gateway_overhead",
        **run_facts(),
        "parameters": {"requests_per_target": args.requests, "concurrency": args.concurrency,
                       "warmup_per_target": args.warmup, "rounds": args.rounds,
                       "client": "one process, eventlet green threads, one requests.Session each"},
        "results": results,
        "ratio": ratio,
    }

    print()
    print(f"{'target':<44} {'requests':>8} {'errors':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for row in (gateway, floor):
        print(f"{row['label']:<44} {row['requests']:>8} {row['errors']:>6} {row['throughput_rps']:>8.1f} "
              f"{row['p50_ms']:>8.2f} {row['p99_ms']:>8.2f}")
    print(f"{'gateway / bare':<44} {'':>8} {'':>6} {ratio['throughput_gateway_over_baseline']:>7.2f}x "
          f"{ratio['p50_gateway_over_baseline']:>7.2f}x {ratio['p99_gateway_over_baseline']:>7.2f}x")

    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nResults written to {output}")
    errors = gateway["errors"] + floor["errors"]
    if errors:
        print(f"{errors} requests failed; first: {gateway['first_error'] or floor['first_error']}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    code = main()
    # At exit, logging's weakref callbacks would take eventlet's green lock from a finalising
    # greenlet and print noise (the root conftest.py does the same for pytest).
    import logging
    logging._removeHandlerRef = lambda ref: None
    sys.exit(code)
