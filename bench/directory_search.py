"""Provider search on a generated directory of 100,000 providers, and bulk import beside
Postgres COPY, in one run (`make bench`).

For each of ten representative queries (text, typo, filters, distance, combined; facets on, as a
client's first page asks for them): p50/p95 through the real gateway (token check, one RPC,
the directory's queries, serialization) beside the same SQL statements run raw over psycopg2,
and the ratio. The raw statements are captured from the directory's own search code, so both
sides run exactly the same queries. Beside them, the floor of any request through HTTP and one
RPC: a bare nameko ``@http`` entrypoint calling a no-op RPC (gateway_overhead.py's baseline pair).

Import: rows per second of a generated CSV (name, email, NPI, specialties, postcode) applied by
the directory's import job (validated, duplicate-checked, written with history, indexed for
search), beside ``COPY`` of the same file into a bare table of text columns, and the ratio; and,
to show what the database itself needs, ``COPY`` of the same rows into the providers table with
its search indexes (no search columns, history or checks): the ceiling of any import path.
It runs in this process after the services have stopped, so no worker competes for the job.

Everything runs on an isolated vhost with its own databases (``shared.testing.infrastructure``),
every service as its own process. Prints a table and writes
``bench/results/directory_search.json``. Not part of the test suite.

    .venv/bin/python bench/directory_search.py [--providers 100000] [--requests 200] [--import-rows 100000]
"""
import warnings

warnings.filterwarnings("ignore", message="\nEventlet is deprecated")
import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from pathlib import Path  # noqa: E402

import psycopg2  # noqa: E402
import psycopg2.extensions  # noqa: E402
import requests  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from measure import percentile, run_facts  # noqa: E402

# name -> query string of GET /api/v1/providers
QUERIES = {
    "first page (facets only)": {},
    "text: trauma": {"q": "trauma"},
    "text with a typo: anxeity": {"q": "anxeity"},
    "text: a name": {"q": "Margaret Chen"},
    "filters: insurance + specialty + telehealth": {"insurance": "aetna", "specialty": "anxiety",
                                                    "telehealth": "true"},
    "filters: language + ages + accepting": {"language": "es", "age_group": "teen",
                                            "accepting_new_clients": "true"},
    "filter: gender": {"gender": "woman"},
    "near a postcode, 5 km": {"near": "02139", "radius_km": "5"},
    "near a point, default 40 km": {"near": "42.3601,-71.0589"},
    "combined: text + near + insurance": {"q": "depression", "near": "02139", "radius_km": "10",
                                          "insurance": "bcbs"},
}


def summary(latencies):
    return {"p50_ms": round(percentile(latencies, 0.50) * 1000, 2), "p95_ms": round(percentile(latencies, 0.95) * 1000, 2)}


def load_directory(infra, org_id, count):
    from sqlalchemy.orm import Session

    from directory import demo
    from shared.db import make_engine

    engine = make_engine(infra.database_url_of("directory"))
    started = time.perf_counter()
    with Session(engine) as session:
        demo.insert_demo_providers(session, org_id, count)
        session.commit()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()
    return time.perf_counter() - started


def captured_statements(infra, org_id, params):
    """The SQL the directory runs for ``params``, as literal statements."""
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from directory import schemas
    from directory.search import SearchQuery, search_providers
    from shared.db import make_engine

    engine = make_engine(infra.database_url_of("directory"))
    statements = []

    @event.listens_for(engine, "before_cursor_execute")
    def capture(connection, cursor, statement, parameters, context, executemany):
        statements.append(cursor.mogrify(statement, parameters).decode())

    query = {key: value.split(",") if key in ("insurance", "specialty", "language", "age_group") else value
             for key, value in params.items()}
    with Session(engine) as session:
        search_providers(session, org_id, SearchQuery(**schemas.SearchQuery().load(query)))
    engine.dispose()
    return statements


def time_raw(connection, statements, count):
    latencies = []
    with connection.cursor() as cursor:
        for _ in range(count):
            started = time.perf_counter()
            for statement in statements:
                cursor.execute(statement)
                if cursor.description:
                    cursor.fetchall()
            connection.rollback()
            latencies.append(time.perf_counter() - started)
    return latencies


def time_requests(url, count, params=None, token=None):
    latencies = []
    with requests.Session() as session:
        if token:
            session.headers["Authorization"] = f"Bearer {token}"
        for _ in range(count):
            started = time.perf_counter()
            response = session.get(url, params=params, timeout=30)
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                raise RuntimeError(f"{url} {params}: {response.status_code} {response.text[:300]}")
    return latencies


def time_floor(infra, log_dir, count, warmup):
    """The floor of any request through HTTP and one RPC: a bare nameko ``@http`` entrypoint
    calling a no-op RPC (gateway_overhead.py's baseline pair), driven as the queries are."""
    from gateway_overhead import start_baseline, stop_baseline
    from shared.testing.waiting import free_port

    processes, url = start_baseline(infra, free_port(), log_dir)
    try:
        time_requests(url, warmup)
        return summary(time_requests(url, count))
    finally:
        stop_baseline(processes)


def import_rows(count):
    from directory import demo

    return [{"name": data["name"], "email": data["email"], "npi": data["npi"], "specialties": data["specialties"],
             "postal_code": data["locations"][0]["postal_code"]} for data in demo.generate_providers(count, seed=42)]


def import_csv(rows):
    from directory import flat

    return flat.write_csv([{**row, "specialties": "; ".join(row["specialties"])} for row in rows])


def time_copy(infra, content):
    from directory import flat

    # psycopg2 refuses COPY while eventlet's green wait callback is installed; COPY runs alone here.
    green_wait = psycopg2.extensions.get_wait_callback()
    psycopg2.extensions.set_wait_callback(None)
    try:
        with psycopg2.connect(infra.database_url_of("directory")) as connection, connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE bench_copy ({', '.join(f'{column} text' for column in flat.COLUMNS)})")
            started = time.perf_counter()
            cursor.copy_expert("COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)", io.BytesIO(content))
            connection.commit()
            elapsed = time.perf_counter() - started
            cursor.execute("DROP TABLE bench_copy")
    finally:
        psycopg2.extensions.set_wait_callback(green_wait)
    return elapsed


def time_copy_into_providers(infra, rows):
    """COPY of the same rows into the directory's own providers table (every index it has, no
    search columns, no history, no validation): what the database alone needs for the table.
    Rolled back, not committed: deleting them again would cost far more than the COPY."""
    import csv

    buffer = io.StringIO()
    org_id = str(uuid.uuid4())
    for row in rows:
        csv.writer(buffer).writerow([org_id, uuid.uuid4(), "individual", row["name"], row["email"], row["npi"],
                                     "{" + ",".join(row["specialties"]) + "}",
                                     json.dumps([{"postal_code": row["postal_code"]}])])
    data = buffer.getvalue().encode()
    green_wait = psycopg2.extensions.get_wait_callback()
    psycopg2.extensions.set_wait_callback(None)
    try:
        with psycopg2.connect(infra.database_url_of("directory")) as connection, connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.copy_expert("COPY providers (org_id, id, kind, name, email, npi, specialties, locations) "
                               "FROM STDIN WITH (FORMAT csv)", io.BytesIO(data))
            elapsed = time.perf_counter() - started
            connection.rollback()
    finally:
        psycopg2.extensions.set_wait_callback(green_wait)
    return elapsed


def time_import(infra, content):
    from sqlalchemy.orm import Session

    from directory import catalog, imports
    from shared.db import make_engine

    engine = make_engine(infra.database_url_of("directory"))
    with Session(engine, expire_on_commit=False) as session:
        started = time.perf_counter()
        job = imports.start_import(session, uuid.uuid4(), None, {"format": "csv"}, content)
        session.commit()
        catalog.run_imports(session)
        elapsed = time.perf_counter() - started
        session.refresh(job)
        outcome = {"status": job.status, "created": job.created_count, "failed": job.failed_count}
    engine.dispose()
    return elapsed, outcome


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--providers", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="measured requests per query and side")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--output", default=str(RESULTS / "directory_search.json"))
    args = parser.parse_args(argv)

    from shared.testing.infrastructure import isolated_infrastructure

    log_dir = RESULTS / "logs" / time.strftime("%Y%m%d-%H%M%S")
    log_dir.mkdir(parents=True, exist_ok=True)
    print(f"Starting an isolated vhost + databases, every service and the gateway (logs: {log_dir}) ...",
          flush=True)
    with isolated_infrastructure() as infra:
        search = bench_search(infra, log_dir, args)
        print("Request floor: a bare nameko @http entrypoint + one no-op RPC ...", flush=True)
        floor = time_floor(infra, log_dir, args.requests, args.warmup)
        print(f"  floor p50 {floor['p50_ms']:6.2f} p95 {floor['p95_ms']:6.2f}", flush=True)
        print(f"Import of a {args.import_rows}-row CSV beside COPY ...", flush=True)
        rows = import_rows(args.import_rows)
        content = import_csv(rows)
        copy_seconds = time_copy(infra, content)
        table_copy_seconds = time_copy_into_providers(infra, rows)
        import_seconds, outcome = time_import(infra, content)
    copy_rate, import_rate = args.import_rows / copy_seconds, args.import_rows / import_seconds
    table_copy_rate = args.import_rows / table_copy_seconds
    bulk = {"rows": args.import_rows, "bytes": len(content), "copy_rows_per_s": round(copy_rate),
            "import_rows_per_s": round(import_rate), "import_over_copy": round(import_rate / copy_rate, 4),
            "copy_into_providers_rows_per_s": round(table_copy_rate),
            "copy_into_providers_over_copy": round(table_copy_rate / copy_rate, 4),
            "import_outcome": outcome}
    print(f"  COPY {bulk['copy_rows_per_s']} rows/s, import {bulk['import_rows_per_s']} rows/s "
          f"({bulk['import_over_copy']:.2%} of COPY; target 20%) {outcome}; COPY into the providers table "
          f"itself {bulk['copy_into_providers_rows_per_s']} rows/s ({bulk['copy_into_providers_over_copy']:.1%})")

    worst_p95 = max(row["gateway"]["p95_ms"] for row in search.values())
    worst_ratio = max(row["p95_ratio"] for row in search.values())
    report = {
        "benchmark": "directory_search",
        **run_facts(),
        "parameters": {"providers": args.providers, "requests_per_query": args.requests, "warmup": args.warmup,
                       "import_rows": args.import_rows, "client": "one requests.Session, sequential"},
        "search": search,
        "request_floor": floor,
        "import": bulk,
        "targets": {"gateway_p95_under_50ms": worst_p95 < 50, "p95_ratio_under_3": worst_ratio < 3,
                    "import_at_least_20pct_of_copy": bulk["import_over_copy"] >= 0.2},
    }
    print(f"\nworst gateway p95 {worst_p95} ms (target < 50), worst ratio x{worst_ratio} (target < 3)")
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"Results written to {output}")
    return 0


def bench_search(infra, log_dir, args):
    from shared.testing.api import log_in, sign_up
    from shared.testing.system import running_system

    results = {}
    with running_system(infra, log_dir) as system:
        program = sign_up(system)
        org_id = uuid.UUID(program.org_id)
        print(f"Loading {args.providers} generated providers ...", flush=True)
        load_seconds = load_directory(infra, org_id, args.providers)
        print(f"  loaded and indexed in {load_seconds:.1f} s", flush=True)
        raw = psycopg2.connect(infra.database_url_of("directory"))
        try:
            for name, params in QUERIES.items():
                statements = captured_statements(infra, org_id, params)
                time_raw(raw, statements, args.warmup)
                # A fresh token per query: the run outlasts an access token's 15 minutes.
                token = log_in(system, program.email)
                url = system.url("/api/v1/providers")
                time_requests(url, args.warmup, params, token)
                gateway = summary(time_requests(url, args.requests, params, token))
                direct = summary(time_raw(raw, statements, args.requests))
                results[name] = {"params": params, "statements": len(statements), "gateway": gateway, "raw_sql": direct,
                                 "p95_ratio": round(gateway["p95_ms"] / direct["p95_ms"], 2)}
                print(f"  {name:<44} gateway p50 {gateway['p50_ms']:6.2f} p95 {gateway['p95_ms']:6.2f} | raw p50 "
                      f"{direct['p50_ms']:6.2f} p95 {direct['p95_ms']:6.2f} | x{results[name]['p95_ratio']}", flush=True)
        finally:
            raw.close()
    return results


if __name__ == "__main__":
    code = main()
    import logging
    logging._removeHandlerRef = lambda ref: None
    sys.exit(code)
