"""referrers: companies, business units, case managers and their history, value lists,
the staff read model and promotions

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 16:07:20.432989
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('companies',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('website', sa.Text(), nullable=True),
    sa.Column('suburb', sa.Text(), nullable=True),
    sa.Column('postcode', sa.String(length=10), nullable=True),
    sa.Column('state', sa.String(length=2), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_by', sa.Uuid(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('uq_companies_org_name', 'companies', ['org_id', sa.literal_column('lower(name)')], unique=True)
    op.create_table('promotions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('headline', sa.Text(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('link', sa.Text(), nullable=True),
    sa.Column('recipient_count', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=True),
    sa.Column('sent_by', sa.Uuid(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('org_id', 'idempotency_key', name='uq_promotions_idempotency')
    )
    op.create_index('ix_promotions_org_sent', 'promotions', ['org_id', 'sent_at', 'id'], unique=False)
    op.create_table('staff_members',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user_id')
    )
    op.create_table('value_lists',
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('values', postgresql.ARRAY(sa.Text()), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_by', sa.Uuid(), nullable=True),
    sa.PrimaryKeyConstraint('org_id', 'name')
    )
    op.create_table('business_units',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('company_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('id', 'company_id', name='uq_business_units_id_company')
    )
    op.create_index('uq_business_units_company_name', 'business_units', ['company_id', sa.literal_column('lower(name)')], unique=True)
    op.create_table('case_managers',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('company_id', sa.Uuid(), nullable=False),
    sa.Column('business_unit_id', sa.Uuid(), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('first_name', sa.Text(), nullable=False),
    sa.Column('last_name', sa.Text(), nullable=False),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('phone', sa.Text(), nullable=True),
    sa.Column('mobile', sa.Text(), nullable=True),
    sa.Column('position', sa.Text(), nullable=True),
    sa.Column('suburb', sa.Text(), nullable=True),
    sa.Column('postcode', sa.String(length=10), nullable=True),
    sa.Column('state', sa.String(length=2), nullable=True),
    sa.Column('linkedin_url', sa.Text(), nullable=True),
    sa.Column('referral_source', sa.Text(), nullable=True),
    sa.Column('business_support_officer_id', sa.Uuid(), nullable=True),
    sa.Column('business_support_officer_assigned_on', sa.Date(), nullable=True),
    sa.Column('contact_verified', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('subscribed_to_promotions', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('recruitment_status', sa.String(length=24), server_default=sa.text("'recruiting'"), nullable=False),
    sa.Column('has_login', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('login_invited_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('search_vector', postgresql.TSVECTOR(), nullable=True),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_by', sa.Uuid(), nullable=True),
    sa.CheckConstraint("recruitment_status IN ('recruiting', 'onboarding', 'onboarded', 'non_booking_contact')", name='ck_case_managers_recruitment_status'),
    sa.CheckConstraint('NOT has_login OR email IS NOT NULL', name='ck_case_managers_login_email'),
    sa.ForeignKeyConstraint(['business_unit_id', 'company_id'], ['business_units.id', 'business_units.company_id'], name='fk_case_managers_business_unit'),
    sa.ForeignKeyConstraint(['company_id'], ['companies.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_case_managers_org_business_support_officer', 'case_managers', ['org_id', 'business_support_officer_id'], unique=False)
    op.create_index('ix_case_managers_org_company', 'case_managers', ['org_id', 'company_id'], unique=False)
    op.create_index('ix_case_managers_org_email', 'case_managers', ['org_id', sa.literal_column('lower(email)')], unique=False)
    op.create_index('ix_case_managers_org_name', 'case_managers', ['org_id', 'last_name', 'first_name', 'id'], unique=False)
    op.create_index('ix_case_managers_org_recruitment_status', 'case_managers', ['org_id', 'recruitment_status'], unique=False)
    op.create_index('ix_case_managers_search_vector', 'case_managers', ['search_vector'], unique=False, postgresql_using='gin')
    op.create_table('case_manager_history',
    sa.Column('case_manager_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('sequence', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('change_id', sa.Uuid(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('field', sa.Text(), nullable=False),
    sa.Column('old_value', postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), nullable=True),
    sa.Column('new_value', postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), nullable=True),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("action IN ('created', 'updated')", name='ck_case_manager_history_action'),
    sa.ForeignKeyConstraint(['case_manager_id'], ['case_managers.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_case_manager_history_case_manager', 'case_manager_history', ['org_id', 'case_manager_id', 'sequence'], unique=False)


def downgrade():
    op.drop_index('ix_case_manager_history_case_manager', table_name='case_manager_history')
    op.drop_table('case_manager_history')
    op.drop_index('ix_case_managers_search_vector', table_name='case_managers', postgresql_using='gin')
    op.drop_index('ix_case_managers_org_recruitment_status', table_name='case_managers')
    op.drop_index('ix_case_managers_org_name', table_name='case_managers')
    op.drop_index('ix_case_managers_org_email', table_name='case_managers')
    op.drop_index('ix_case_managers_org_company', table_name='case_managers')
    op.drop_index('ix_case_managers_org_business_support_officer', table_name='case_managers')
    op.drop_table('case_managers')
    op.drop_index('uq_business_units_company_name', table_name='business_units')
    op.drop_table('business_units')
    op.drop_table('value_lists')
    op.drop_table('staff_members')
    op.drop_index('ix_promotions_org_sent', table_name='promotions')
    op.drop_table('promotions')
    op.drop_index('uq_companies_org_name', table_name='companies')
    op.drop_table('companies')
