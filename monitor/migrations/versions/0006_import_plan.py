"""imports: a fingerprint of the previewed plan, so a confirmation applies only what was shown

Revision ID: 0006_import_plan
Revises: 0005_imports
Create Date: 2026-12-03 09:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0006_import_plan'
down_revision = '0005_imports'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plan_sha256', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.drop_column('plan_sha256')
