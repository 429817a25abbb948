"""update requests: provider update requests and their history link, the stale period of the
directory settings, the program-name read model, and the index of HSDS service ids

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 16:20:15.151228
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('program_names',
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('refreshed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('org_id')
    )
    op.create_table('provider_update_requests',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('email', sa.Text(), nullable=False),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('sent_by', sa.Uuid(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.CheckConstraint("trigger IN ('staff', 'stale')", name='ck_provider_update_requests_trigger'),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('org_id', 'idempotency_key', name='uq_provider_update_requests_idempotency'),
    sa.UniqueConstraint('token_hash', name='uq_provider_update_requests_token_hash')
    )
    op.create_index('ix_provider_update_requests_org_sent', 'provider_update_requests', ['org_id', 'sent_at', 'id'], unique=False)
    op.create_index('ix_provider_update_requests_provider_sent', 'provider_update_requests', ['provider_id', 'sent_at'], unique=False)
    op.add_column('directory_settings', sa.Column('stale_after_days', sa.Integer(), nullable=True))
    op.add_column('provider_history', sa.Column('update_request_id', sa.Uuid(), nullable=True))
    op.create_foreign_key('fk_provider_history_update_request', 'provider_history', 'provider_update_requests', ['update_request_id'], ['id'])
    # uuid_generate_v5: the HSDS read API finds a provider by the id of its service.
    op.execute('CREATE EXTENSION IF NOT EXISTS "uuid-ossp"')
    op.create_index('ix_providers_hsds_service_id', 'providers', [sa.literal_column("uuid_generate_v5(id, 'service')")], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))


def downgrade():
    op.drop_index('ix_providers_hsds_service_id', table_name='providers', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_constraint('fk_provider_history_update_request', 'provider_history', type_='foreignkey')
    op.drop_column('provider_history', 'update_request_id')
    op.drop_column('directory_settings', 'stale_after_days')
    op.drop_index('ix_provider_update_requests_provider_sent', table_name='provider_update_requests')
    op.drop_index('ix_provider_update_requests_org_sent', table_name='provider_update_requests')
    op.drop_table('provider_update_requests')
    op.drop_table('program_names')
