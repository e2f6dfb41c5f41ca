"""index people by name, so the case list sorted by name reads 25 rows, not all of them

Revision ID: 0003_people_name_index
Revises: 0002_alerts_dossiers
Create Date: 2026-11-29 16:30:00

"""
from alembic import op


revision = '0003_people_name_index'
down_revision = '0002_alerts_dossiers'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_people_name'), ['name'], unique=False)


def downgrade():
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_people_name'))
