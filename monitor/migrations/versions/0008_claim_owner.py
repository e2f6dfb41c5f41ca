"""claims name their claimant, so a dead worker's claims are released at once

Revision ID: 0008_claim_owner
Revises: 0011_second_factor
Create Date: 2026-12-10 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0008_claim_owner'
down_revision = '0011_second_factor'
branch_labels = None
depends_on = None

TABLES = ('alert_deliveries', 'dossiers', 'imports')


def upgrade():
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('claimed_by', sa.String(length=255), nullable=True))


def downgrade():
    for table in reversed(TABLES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('claimed_by')
