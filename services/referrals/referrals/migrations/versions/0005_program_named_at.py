"""When each program's name was identity's (programs.named_at), so a late event cannot bring
back an old name. Rows already there count as named now.

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('programs', sa.Column('named_at', sa.DateTime(timezone=True), server_default=sa.text('now()'),
                                        nullable=False))


def downgrade():
    op.drop_column('programs', 'named_at')
