"""case manager referrals: inbound requests made by a case manager's login, with the company and
business unit they referred from

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 16:07:41.618339
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('inbound_requests', sa.Column('case_manager_id', sa.Uuid(), nullable=True))
    op.add_column('inbound_requests', sa.Column('company_id', sa.Uuid(), nullable=True))
    op.add_column('inbound_requests', sa.Column('business_unit_id', sa.Uuid(), nullable=True))
    op.add_column('inbound_requests', sa.Column('submitted_by', sa.Uuid(), nullable=True))
    op.alter_column('inbound_requests', 'provider_id',
               existing_type=sa.UUID(),
               nullable=True)
    op.alter_column('inbound_requests', 'provider_name',
               existing_type=sa.VARCHAR(length=200),
               nullable=True)
    op.alter_column('inbound_requests', 'sender_hash',
               existing_type=sa.VARCHAR(length=64),
               nullable=True)
    op.create_index('ix_inbound_requests_business_unit', 'inbound_requests', ['org_id', 'business_unit_id', 'created_at', 'id'], unique=False, postgresql_where=sa.text('business_unit_id IS NOT NULL'))
    op.create_index('ix_inbound_requests_case_manager', 'inbound_requests', ['org_id', 'case_manager_id', 'created_at', 'id'], unique=False, postgresql_where=sa.text('case_manager_id IS NOT NULL'))
    op.create_check_constraint(
        'ck_inbound_requests_source', 'inbound_requests',
        'case_manager_id IS NOT NULL OR (provider_id IS NOT NULL AND sender_hash IS NOT NULL)')


def downgrade():
    op.drop_constraint('ck_inbound_requests_source', 'inbound_requests', type_='check')
    # The public form's requests fit the old columns; case managers' referrals do not.
    op.execute('DELETE FROM inbound_requests WHERE case_manager_id IS NOT NULL')
    op.drop_index('ix_inbound_requests_case_manager', table_name='inbound_requests', postgresql_where=sa.text('case_manager_id IS NOT NULL'))
    op.drop_index('ix_inbound_requests_business_unit', table_name='inbound_requests', postgresql_where=sa.text('business_unit_id IS NOT NULL'))
    op.alter_column('inbound_requests', 'sender_hash',
               existing_type=sa.VARCHAR(length=64),
               nullable=False)
    op.alter_column('inbound_requests', 'provider_name',
               existing_type=sa.VARCHAR(length=200),
               nullable=False)
    op.alter_column('inbound_requests', 'provider_id',
               existing_type=sa.UUID(),
               nullable=False)
    op.drop_column('inbound_requests', 'submitted_by')
    op.drop_column('inbound_requests', 'business_unit_id')
    op.drop_column('inbound_requests', 'company_id')
    op.drop_column('inbound_requests', 'case_manager_id')
