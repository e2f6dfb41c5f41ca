"""a party membership's seat in a legislature (Popolo: on behalf of the party)

Revision ID: 0020_membership_legislature
Revises: 0019_identifiers
Create Date: 2026-12-22 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0020_membership_legislature'
down_revision = '0019_identifiers'
branch_labels = None
depends_on = None


FK = 'fk_memberships_legislature_id_organizations'


def upgrade():
    if op.get_bind().dialect.name == 'sqlite':
        # A plain ADD COLUMN with its named reference: SQLite adds a foreign key otherwise only by
        # rebuilding the table, which would drop the membership triggers of 0016.
        op.execute(
            f'ALTER TABLE memberships ADD COLUMN legislature_id INTEGER CONSTRAINT {FK} '
            'REFERENCES organizations (id)'
        )
        return
    op.add_column('memberships', sa.Column('legislature_id', sa.Integer(), nullable=True))
    op.create_foreign_key(
        FK, 'memberships', 'organizations', ['legislature_id'], ['id']
    )


def downgrade():
    if op.get_bind().dialect.name != 'sqlite':
        op.drop_constraint(FK, 'memberships', type_='foreignkey')
    op.drop_column('memberships', 'legislature_id')
