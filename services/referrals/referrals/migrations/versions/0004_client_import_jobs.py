"""client import jobs: a client import becomes a durable background job (shared.imports), with
status, progress, lease and the row-level report of provider imports

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 16:28:21.517930

Imports made before ran in one call, so they are finished: they become completed jobs, their
report reshaped to the job's (``{row, field, message}`` errors; rows counted from the first data
row, where they were line numbers of the file, the header being line 1).
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from shared.imports import flat_messages

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

MATCHED_ON = "name and date of birth"
client_imports = sa.table(
    'client_imports', sa.column('id', sa.Uuid()), sa.column('status', sa.String()),
    sa.column('on_duplicate', sa.String()), sa.column('total_rows', sa.Integer()),
    sa.column('processed_rows', sa.Integer()), sa.column('duplicate_count', sa.Integer()),
    sa.column('failed_count', sa.Integer()), sa.column('errors', postgresql.JSONB()),
    sa.column('duplicates', postgresql.JSONB()), sa.column('created_at', sa.DateTime(timezone=True)),
    sa.column('started_at', sa.DateTime(timezone=True)), sa.column('finished_at', sa.DateTime(timezone=True)),
)


def upgrade():
    # Defaults only to fill the rows already there; the model has none for these.
    op.add_column('client_imports', sa.Column('on_duplicate', sa.String(length=8), server_default='skip',
                                              nullable=False))
    op.add_column('client_imports', sa.Column('assign_to_creator', sa.Boolean(), server_default=sa.false(),
                                              nullable=False))
    op.add_column('client_imports', sa.Column('content', sa.LargeBinary(), server_default=sa.text("''::bytea"),
                                              nullable=False))
    for column in ('on_duplicate', 'assign_to_creator', 'content'):
        op.alter_column('client_imports', column, server_default=None)
    op.add_column('client_imports', sa.Column('status', sa.String(length=16), server_default=sa.text("'pending'"),
                                              nullable=False))
    op.add_column('client_imports', sa.Column('processed_rows', sa.Integer(), server_default=sa.text('0'),
                                              nullable=False))
    op.add_column('client_imports', sa.Column('duplicate_count', sa.Integer(), server_default=sa.text('0'),
                                              nullable=False))
    op.add_column('client_imports', sa.Column('failed_count', sa.Integer(), server_default=sa.text('0'),
                                              nullable=False))
    op.add_column('client_imports', sa.Column('failure', sa.Text(), nullable=True))
    op.add_column('client_imports', sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True))
    op.add_column('client_imports', sa.Column('started_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('client_imports', sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True))
    # The job's counters and reports start empty (shared.imports.ImportJob).
    op.alter_column('client_imports', 'created_count', server_default=sa.text('0'))
    op.alter_column('client_imports', 'errors', server_default=sa.text("'[]'::jsonb"))
    op.alter_column('client_imports', 'duplicates', server_default=sa.text("'[]'::jsonb"))
    _finished_imports_as_jobs()
    op.create_check_constraint('ck_client_imports_status', 'client_imports',
                               "status IN ('pending', 'running', 'completed', 'failed')")
    op.create_check_constraint('ck_client_imports_on_duplicate', 'client_imports',
                               "on_duplicate IN ('skip', 'create')")
    op.create_index('ix_client_imports_unfinished', 'client_imports', ['created_at'], unique=False,
                    postgresql_where=sa.text("status IN ('pending', 'running')"))


def _finished_imports_as_jobs():
    bind = op.get_bind()
    rows = bind.execute(sa.select(client_imports.c.id, client_imports.c.total_rows, client_imports.c.errors,
                                  client_imports.c.duplicates, client_imports.c.created_at)).all()
    for import_id, total_rows, errors, duplicates, created_at in rows:
        bind.execute(client_imports.update().where(client_imports.c.id == import_id).values(
            status='completed', processed_rows=total_rows, started_at=created_at, finished_at=created_at,
            on_duplicate='create' if any(entry['action'] == 'created' for entry in duplicates) else 'skip',
            # One entry per failed row, besides the note on ignored header columns.
            failed_count=sum(1 for entry in errors if 'header' not in entry['errors']),
            duplicate_count=len(duplicates),
            errors=[{'row': entry['row'] - 1, 'field': field, 'message': message}
                    for entry in errors for field, message in flat_messages(entry['errors'])],
            duplicates=[{'row': entry['row'] - 1, 'client_ids': entry['client_ids'], 'matched_on': MATCHED_ON,
                         'action': entry['action']} for entry in duplicates],
        ))


def downgrade():
    _reports_as_before()
    op.drop_index('ix_client_imports_unfinished', table_name='client_imports',
                  postgresql_where=sa.text("status IN ('pending', 'running')"))
    op.drop_constraint('ck_client_imports_on_duplicate', 'client_imports', type_='check')
    op.drop_constraint('ck_client_imports_status', 'client_imports', type_='check')
    op.alter_column('client_imports', 'duplicates', server_default=None)
    op.alter_column('client_imports', 'errors', server_default=None)
    op.alter_column('client_imports', 'created_count', server_default=None)
    for column in ('finished_at', 'started_at', 'lease_until', 'failure', 'failed_count', 'duplicate_count',
                   'processed_rows', 'status', 'content', 'assign_to_creator', 'on_duplicate'):
        op.drop_column('client_imports', column)


def _reports_as_before():
    """Errors grouped by row again (``{row, errors: {field: [message]}}``, nested fields kept
    dotted), rows as line numbers."""
    bind = op.get_bind()
    rows = bind.execute(sa.select(client_imports.c.id, client_imports.c.errors, client_imports.c.duplicates)).all()
    for import_id, errors, duplicates in rows:
        by_row = {}
        for entry in errors:
            by_row.setdefault(entry['row'] + 1, {}).setdefault(entry['field'], []).append(entry['message'])
        bind.execute(client_imports.update().where(client_imports.c.id == import_id).values(
            errors=[{'row': row, 'errors': messages} for row, messages in by_row.items()],
            duplicates=[{'row': entry['row'] + 1, 'client_ids': entry['client_ids'], 'action': entry['action']}
                        for entry in duplicates],
        ))
