"""A throwaway database per test run, with the directory schema, and a session per test
that is rolled back afterwards (data committed by module fixtures stays)."""
import os
import uuid

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from directory.models import Base, install_search_support
from shared.outbox import platform_metadata

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="session")
def engine():
    server_url = make_url(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL))
    database = f"directory_test_{uuid.uuid4().hex[:12]}"
    # Pre-ping: the fault suite restarts PostgreSQL in the same run, killing pooled connections.
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{database}"')
    engine = create_engine(server_url.set(database=database), pool_pre_ping=True)
    try:
        with engine.begin() as connection:
            install_search_support(connection)
            Base.metadata.create_all(connection)
            platform_metadata.create_all(connection)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def session(engine):
    with engine.connect() as connection:
        transaction = connection.begin()
        with Session(connection, join_transaction_mode="create_savepoint") as session:
            yield session
        transaction.rollback()
