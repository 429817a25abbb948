"""Init container of every Handoff pod: wait until what the component needs is in place.

    python /scripts/wait_for_dependencies.py [SERVICE]

- the RabbitMQ vhost of AMQP_URI accepts the connection (it is created, with default queue type
  quorum, by the rabbitmq-setup Job; until then nameko would be refused and crash-loop, so we
  wait here instead), and
- with SERVICE: that service's database is at the alembic head of the code in this image,
  i.e. the migration Job (`python -m shared.migrations upgrade`) has done its work for this
  release. A database *ahead* of the image (a rollback after an expand-only migration) is
  accepted with a warning.

Exits 0 when ready, 1 after WAIT_TIMEOUT_SECONDS (default 900) so the pod's restart shows the
reason in `kubectl logs -c wait-for-dependencies`.
"""
import os
import sys
import time

CHECK_INTERVAL_SECONDS = 5


def broker_status():
    from kombu import Connection

    with Connection(os.environ["AMQP_URI"], connect_timeout=5) as connection:
        connection.connect()
    return None


def database_status(service):
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine, pool

    from shared.migrations import alembic_config

    cfg = alembic_config(service)
    script = ScriptDirectory.from_config(cfg)
    heads = set(script.get_heads())
    engine = create_engine(cfg.attributes["database_url"], poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()
    if current == heads:
        return None
    unknown = set()
    for revision in current:
        try:
            script.get_revision(revision)
        except Exception:
            unknown.add(revision)
    if unknown:
        print(f"warning: {service} database is at {sorted(unknown)}, unknown to this image "
              f"(newer code migrated it); starting anyway", flush=True)
        return None
    return f"{service} database at {sorted(current) or 'no revision'}, waiting for {sorted(heads)}"


def main(argv):
    service = argv[1] if len(argv) > 1 else None
    timeout = float(os.environ.get("WAIT_TIMEOUT_SECONDS", 900))
    deadline = time.monotonic() + timeout
    checks = [("broker", broker_status)]
    if service:
        checks.append(("database", lambda: database_status(service)))
    while True:
        waiting = []
        for name, check in checks:
            try:
                status = check()
            except Exception as exc:  # not reachable yet, vhost or database not created yet
                status = f"{name} not ready: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
            if status:
                waiting.append(status)
        if not waiting:
            print(f"{service or 'gateway'}: broker and database ready", flush=True)
            return 0
        if time.monotonic() >= deadline:
            print(f"gave up after {timeout:.0f}s: " + "; ".join(waiting), file=sys.stderr, flush=True)
            return 1
        print("; ".join(waiting), flush=True)
        time.sleep(CHECK_INTERVAL_SECONDS)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
