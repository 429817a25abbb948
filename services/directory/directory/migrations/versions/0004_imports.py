"""imports: the durable import job, indexes for duplicate checks

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 13:15:41.986878
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('provider_imports',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('format', sa.String(length=16), nullable=False),
    sa.Column('filename', sa.Text(), nullable=True),
    sa.Column('mapping', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
    sa.Column('dry_run', sa.Boolean(), nullable=False),
    sa.Column('on_duplicate', sa.String(length=8), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('status', sa.String(length=16), server_default=sa.text("'pending'"), nullable=False),
    sa.Column('total_rows', sa.Integer(), nullable=False),
    sa.Column('processed_rows', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('created_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('merged_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('duplicate_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('failed_count', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('errors', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('duplicates', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('failure', sa.Text(), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("on_duplicate IN ('skip', 'merge')", name='ck_provider_imports_on_duplicate'),
    sa.CheckConstraint("status IN ('pending', 'running', 'completed', 'failed')", name='ck_provider_imports_status'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_provider_imports_unfinished', 'provider_imports', ['created_at'], unique=False, postgresql_where=sa.text("status IN ('pending', 'running')"))
    op.create_index('ix_providers_org_email', 'providers', ['org_id', sa.literal_column('lower(email)')], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_providers_org_lower_name', 'providers', ['org_id', sa.literal_column('lower(name)')], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))


def downgrade():
    op.drop_index('ix_providers_org_lower_name', table_name='providers', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_providers_org_email', table_name='providers', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_provider_imports_unfinished', table_name='provider_imports', postgresql_where=sa.text("status IN ('pending', 'running')"))
    op.drop_table('provider_imports')
