"""fast search: tier vectors, unit-sphere points for nearest-first order, a sample byte for
facet estimates, the vocabulary for typo correction

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 13:01:50.322705
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from directory import search_index
from directory.models import Cube

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    # cube: unit-sphere points and their KNN GiST index; btree_gist: org_id in that index.
    op.execute("CREATE EXTENSION IF NOT EXISTS cube")
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table('search_words',
    sa.Column('org_id', sa.Uuid(), nullable=False),
    sa.Column('word', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('org_id', 'word')
    )
    op.create_index('ix_search_words_trgm', 'search_words', ['org_id', 'word'], unique=False, postgresql_using='gist', postgresql_ops={'word': 'gist_trgm_ops'})
    op.add_column('providers', sa.Column('sphere_point', Cube(), sa.Computed('CASE WHEN latitude IS NOT NULL THEN cube(ARRAY[cos(radians(latitude)) * cos(radians(longitude)), cos(radians(latitude)) * sin(radians(longitude)), sin(radians(latitude))]) END', persisted=True), nullable=True))
    op.add_column('providers', sa.Column('name_vector', postgresql.TSVECTOR(), nullable=True))
    op.add_column('providers', sa.Column('primary_vector', postgresql.TSVECTOR(), nullable=True))
    op.drop_index(op.f('ix_providers_point'), table_name='providers', postgresql_using='gist', postgresql_where='((deleted_at IS NULL) AND (latitude IS NOT NULL))')
    op.drop_index(op.f('ix_providers_search_text_trgm'), table_name='providers', postgresql_ops={'search_text': 'gin_trgm_ops'}, postgresql_using='gin', postgresql_where='(deleted_at IS NULL)')
    op.create_index('ix_providers_name_vector', 'providers', ['name_vector'], unique=False, postgresql_using='gin', postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index('ix_providers_org_sample', 'providers', ['org_id', sa.literal_column('get_byte(uuid_send(id), 0)')], unique=False, postgresql_include=['id', 'deleted_at'])
    op.create_index('ix_providers_org_sphere_point', 'providers', ['org_id', 'sphere_point'], unique=False, postgresql_using='gist', postgresql_where=sa.text('deleted_at IS NULL AND latitude IS NOT NULL'))
    op.create_index('ix_providers_primary_vector', 'providers', ['primary_vector'], unique=False, postgresql_using='gin', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_providers_org_gender', table_name='providers')
    op.create_index('ix_providers_org_gender', 'providers', ['org_id', sa.literal_column('lower(gender)')], unique=False)
    # Fill the new vectors and the vocabulary of every program's existing providers.
    connection = op.get_bind()
    for (org_id,) in connection.execute(sa.text("SELECT DISTINCT org_id FROM providers")):
        search_index.refresh_all(connection, org_id)


def downgrade():
    op.drop_index('ix_providers_org_gender', table_name='providers')
    op.create_index('ix_providers_org_gender', 'providers', ['org_id', sa.literal_column('lower(gender)')], unique=False, postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_providers_primary_vector', table_name='providers', postgresql_using='gin', postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_providers_org_sphere_point', table_name='providers', postgresql_using='gist', postgresql_where=sa.text('deleted_at IS NULL AND latitude IS NOT NULL'))
    op.drop_index('ix_providers_org_sample', table_name='providers')
    op.drop_index('ix_providers_name_vector', table_name='providers', postgresql_using='gin', postgresql_where=sa.text('deleted_at IS NULL'))
    op.create_index(op.f('ix_providers_search_text_trgm'), 'providers', ['search_text'], unique=False, postgresql_ops={'search_text': 'gin_trgm_ops'}, postgresql_using='gin', postgresql_where='(deleted_at IS NULL)')
    op.create_index(op.f('ix_providers_point'), 'providers', [sa.literal_column('point(longitude, latitude)')], unique=False, postgresql_using='gist', postgresql_where='((deleted_at IS NULL) AND (latitude IS NOT NULL))')
    op.drop_column('providers', 'primary_vector')
    op.drop_column('providers', 'name_vector')
    op.drop_column('providers', 'sphere_point')
    op.drop_index('ix_search_words_trgm', table_name='search_words', postgresql_using='gist', postgresql_ops={'word': 'gist_trgm_ops'})
    op.drop_table('search_words')
