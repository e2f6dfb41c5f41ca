"""temporary passwords: a password an admin set expires, and must be replaced at first login

Revision ID: 0017_temporary_passwords
Revises: 0012_factor_secrets
Create Date: 2026-12-12 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0017_temporary_passwords'
down_revision = '0012_factor_secrets'
branch_labels = None
depends_on = None


def upgrade():
    # Existing passwords stay permanent: nobody can tell now who chose them.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('password_temporary_until', sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('password_temporary_until')
