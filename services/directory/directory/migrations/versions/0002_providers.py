"""providers

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:24:54.455517
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    # Trigram matching (typo tolerance) and accent folding for search.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    op.create_table('directory_settings',
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('public_slug', sa.String(length=64), nullable=True),
    sa.Column('public_directory_enabled', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('insurance_filter_plans', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('restrict_to_insurance_filter_plans', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_by', sa.Uuid(), nullable=True),
    sa.PrimaryKeyConstraint('org_id')
    )
    op.create_index('uq_directory_settings_public_slug', 'directory_settings', ['public_slug'], unique=True)
    op.create_table('providers',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('practice_name', sa.Text(), nullable=True),
    sa.Column('credentials', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('licenses', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('npi', sa.String(length=10), nullable=True),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('specialties', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('modalities', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('age_groups', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('populations', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('languages', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('insurance_plans', postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
    sa.Column('gender', sa.Text(), nullable=True),
    sa.Column('telehealth', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('in_person', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('accepting_new_clients', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=True),
    sa.Column('waitlist_weeks', sa.Integer(), nullable=True),
    sa.Column('fee_min', sa.Integer(), nullable=True),
    sa.Column('fee_max', sa.Integer(), nullable=True),
    sa.Column('sliding_scale', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('fees_description', sa.Text(), nullable=True),
    sa.Column('email', sa.Text(), nullable=True),
    sa.Column('website', sa.Text(), nullable=True),
    sa.Column('phones', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('contacts', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('locations', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('schedules', postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'[]'::jsonb"), nullable=False),
    sa.Column('last_verified_on', sa.Date(), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('search_vector', postgresql.TSVECTOR(), nullable=True),
    sa.Column('search_text', sa.Text(), nullable=True),
    sa.Column('version', sa.Integer(), server_default=sa.text('1'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_by', sa.Uuid(), nullable=True),
    sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('deleted_by', sa.Uuid(), nullable=True),
    sa.CheckConstraint("kind IN ('individual', 'agency')", name='ck_providers_kind'),
    sa.CheckConstraint('(latitude IS NULL) = (longitude IS NULL)', name='ck_providers_coordinates'),
    sa.CheckConstraint('fee_min IS NULL OR fee_max IS NULL OR fee_min <= fee_max', name='ck_providers_fees'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_providers_age_groups', 'providers', ['age_groups'], unique=False, postgresql_using='gin', postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_providers_insurance_plans', 'providers', ['insurance_plans'], unique=False, postgresql_using='gin', postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_providers_languages', 'providers', ['languages'], unique=False, postgresql_using='gin', postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_providers_modalities', 'providers', ['modalities'], unique=False, postgresql_using='gin', postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_providers_org_gender', 'providers', ['org_id', sa.literal_column('lower(gender)')], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_providers_org_name', 'providers', ['org_id', 'name', 'id'], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_providers_point', 'providers', [sa.literal_column('point(longitude, latitude)')], unique=False, postgresql_using='gist', postgresql_where=sa.text('deleted_at IS NULL AND latitude IS NOT NULL'))
    op.create_index('ix_providers_populations', 'providers', ['populations'], unique=False, postgresql_using='gin', postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_providers_search_text_trgm', 'providers', ['search_text'], unique=False, postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'}, postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_providers_search_vector', 'providers', ['search_vector'], unique=False, postgresql_using='gin', postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_providers_specialties', 'providers', ['specialties'], unique=False, postgresql_using='gin', postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('uq_providers_org_npi', 'providers', ['org_id', 'npi'], unique=True, postgresql_where=sa.text('deleted_at IS NULL AND npi IS NOT NULL'))
    op.create_table('taxonomy_terms',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('taxonomy', sa.String(length=32), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('active', sa.Boolean(), server_default=sa.text('true'), nullable=False),
    sa.Column('position', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_by', sa.Uuid(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('uq_taxonomy_terms_org_code', 'taxonomy_terms', ['org_id', 'taxonomy', 'code'], unique=True)
    op.create_table('provider_history',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('sequence', sa.BigInteger(), sa.Identity(always=False), nullable=False),
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('provider_id', sa.Uuid(), nullable=False),
    sa.Column('change_id', sa.Uuid(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('field', sa.Text(), nullable=False),
    sa.Column('old_value', postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), nullable=True),
    sa.Column('new_value', postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), nullable=True),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("action IN ('created', 'updated', 'deleted')", name='ck_provider_history_action'),
    sa.ForeignKeyConstraint(['provider_id'], ['providers.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_provider_history_provider', 'provider_history', ['org_id', 'provider_id', 'sequence'], unique=False)


def downgrade():
    op.drop_index('ix_provider_history_provider', table_name='provider_history')
    op.drop_table('provider_history')
    op.drop_index('uq_taxonomy_terms_org_code', table_name='taxonomy_terms')
    op.drop_table('taxonomy_terms')
    op.drop_index('uq_providers_org_npi', table_name='providers', postgresql_where=sa.text('deleted_at IS NULL AND npi IS NOT NULL'))
    op.drop_index('ix_providers_specialties', table_name='providers', postgresql_using='gin', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_providers_search_vector', table_name='providers', postgresql_using='gin', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_providers_search_text_trgm', table_name='providers', postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'}, postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_providers_populations', table_name='providers', postgresql_using='gin', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_providers_point', table_name='providers', postgresql_using='gist', postgresql_where=sa.text('deleted_at IS NULL AND latitude IS NOT NULL'))
    op.drop_index('ix_providers_org_name', table_name='providers', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_providers_org_gender', table_name='providers', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_providers_modalities', table_name='providers', postgresql_using='gin', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_providers_languages', table_name='providers', postgresql_using='gin', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_providers_insurance_plans', table_name='providers', postgresql_using='gin', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_providers_age_groups', table_name='providers', postgresql_using='gin', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_table('providers')
    op.drop_index('uq_directory_settings_public_slug', table_name='directory_settings')
    op.drop_table('directory_settings')
