"""update request approval: the program setting that holds a provider's corrections for staff
approval, and the corrections held and the decision on the update request

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 20:04:01.656278
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('directory_settings', sa.Column('corrections_need_approval', sa.Boolean(), server_default=sa.text('false'), nullable=False))
    op.add_column('provider_update_requests', sa.Column('proposed_changes', postgresql.JSONB(none_as_null=True, astext_type=sa.Text()), nullable=True))
    op.add_column('provider_update_requests', sa.Column('decision', sa.String(length=16), nullable=True))
    op.add_column('provider_update_requests', sa.Column('decided_by', sa.Uuid(), nullable=True))
    op.add_column('provider_update_requests', sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('provider_update_requests', sa.Column('rejection_reason', sa.Text(), nullable=True))
    op.create_check_constraint(
        'ck_provider_update_requests_decision', 'provider_update_requests',
        "decision IS NULL OR (decision IN ('approved', 'rejected') AND proposed_changes IS NOT NULL "
        "AND decided_by IS NOT NULL AND decided_at IS NOT NULL)")


def downgrade():
    op.drop_constraint('ck_provider_update_requests_decision', 'provider_update_requests', type_='check')
    op.drop_column('provider_update_requests', 'rejection_reason')
    op.drop_column('provider_update_requests', 'decided_at')
    op.drop_column('provider_update_requests', 'decided_by')
    op.drop_column('provider_update_requests', 'decision')
    op.drop_column('provider_update_requests', 'proposed_changes')
    op.drop_column('directory_settings', 'corrections_need_approval')
