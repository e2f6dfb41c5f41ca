"""alert deliveries: next attempt, sender lease and give-up time

Revision ID: 0004_alerts_delivery_schedule
Revises: 0003_people_name_index
Create Date: 2026-11-30 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0004_alerts_delivery_schedule'
down_revision = '0003_people_name_index'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('alert_deliveries', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('give_up_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            batch_op.f('ix_alert_deliveries_next_attempt_at'), ['next_attempt_at'], unique=False
        )


def downgrade():
    with op.batch_alter_table('alert_deliveries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_deliveries_next_attempt_at'))
        batch_op.drop_column('give_up_at')
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('next_attempt_at')
