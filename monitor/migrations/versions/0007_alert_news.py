"""status events: the import that recorded them, so subscribers get one summary per import

Revision ID: 0007_alert_news
Revises: 0006_import_plan
Create Date: 2026-12-05 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0007_alert_news'
down_revision = '0006_import_plan'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('status_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('import_batch', sa.String(length=16), nullable=True))
        batch_op.create_index(
            batch_op.f('ix_status_events_import_batch'), ['import_batch'], unique=False
        )


def downgrade():
    with op.batch_alter_table('status_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_status_events_import_batch'))
        batch_op.drop_column('import_batch')
