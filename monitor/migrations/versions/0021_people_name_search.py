"""a name index carrying the searched text: a common name fragment's page walks names in order

Revision ID: 0021_people_name_search
Revises: 0016_page_indexes
Create Date: 2026-12-22 10:00:00

"""
from alembic import op


revision = '0021_people_name_search'
down_revision = '0020_membership_legislature'
branch_labels = None
depends_on = None


def upgrade():
    # On PostgreSQL the index carries search_text and name_native (an index-only walk); other
    # databases get the plain (name, id) index.
    op.create_index(
        'ix_people_name_search',
        'people',
        ['name', 'id'],
        unique=False,
        postgresql_include=['search_text', 'name_native'],
    )


def downgrade():
    op.drop_index('ix_people_name_search', table_name='people')
