"""One alembic chain per service, run the same way by ``make run``, the tests and Docker.

    python -m shared.migrations upgrade [service ...]     create missing databases, migrate
    python -m shared.migrations revision SERVICE -m MSG   autogenerate a revision
"""
import argparse
import importlib
import os
import sys

import psycopg2
from alembic import command, context
from alembic.config import Config
from psycopg2 import sql
from sqlalchemy import pool

from shared.config import SERVICES, load_config, service_database_url
from shared.db import make_engine
from shared.outbox import platform_metadata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def service_dir(service):
    return os.path.join(ROOT, "services", service)


def alembic_config(service, config=None):
    config = config if config is not None else load_config(os.path.join(service_dir(service), "config.yml"))
    cfg = Config()
    cfg.set_main_option("script_location", os.path.join(service_dir(service), service, "migrations"))
    cfg.attributes["database_url"] = service_database_url(config, service)
    return cfg


def ensure_database(url):
    """CREATE DATABASE when it does not exist yet (it cannot run inside a transaction)."""
    server_url, _, name = url.rpartition("/")
    conn = psycopg2.connect(server_url + "/postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cur.fetchone() is None:
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        conn.close()


def drop_database(url):
    server_url, _, name = url.rpartition("/")
    conn = psycopg2.connect(server_url + "/postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    finally:
        conn.close()


def upgrade(service, config=None):
    cfg = alembic_config(service, config)
    ensure_database(cfg.attributes["database_url"])
    command.upgrade(cfg, "head")


def create_platform_tables():
    """The first revision of every service's chain: the outbox and processed-event tables."""
    from alembic import op
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql

    op.create_table(
        "outbox_events",
        sa.Column("event_id", sa.Uuid(), primary_key=True),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("request_id", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("published_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_outbox_unpublished", "outbox_events", ["created_at"],
                    postgresql_where=sa.text("published_at IS NULL"))
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(200), primary_key=True),
        sa.Column("event_id", sa.Uuid(), primary_key=True),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )


def drop_platform_tables():
    from alembic import op
    op.drop_table("processed_events")
    op.drop_table("outbox_events")


def run_env(metadata):
    """The body of every service's ``migrations/env.py``."""
    url = context.config.attributes["database_url"]
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=[metadata, platform_metadata],
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m shared.migrations")
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("upgrade")
    up.add_argument("services", nargs="*", default=list(SERVICES))
    rev = sub.add_parser("revision")
    rev.add_argument("service", choices=SERVICES)
    rev.add_argument("-m", "--message", required=True)
    args = parser.parse_args(argv)
    if args.command == "upgrade":
        for service in args.services:
            upgrade(service)
    else:
        importlib.import_module(f"{args.service}.models")
        cfg = alembic_config(args.service)
        ensure_database(cfg.attributes["database_url"])
        command.upgrade(cfg, "head")
        command.revision(cfg, message=args.message, autogenerate=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
