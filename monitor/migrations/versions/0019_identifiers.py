"""identifiers on people and organizations, links, death dates, membership areas

Revision ID: 0019_identifiers
Revises: 0016_page_indexes
Create Date: 2026-12-22 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0019_identifiers'
down_revision = '0018_languages'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'person_identifiers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('scheme', sa.String(length=60), nullable=False),
        sa.Column('identifier', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('scheme', 'identifier'),
    )
    op.create_index(
        op.f('ix_person_identifiers_person_id'), 'person_identifiers', ['person_id'], unique=False
    )
    op.create_table(
        'organization_identifiers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('scheme', sa.String(length=60), nullable=False),
        sa.Column('identifier', sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('scheme', 'identifier'),
    )
    op.create_index(
        op.f('ix_organization_identifiers_organization_id'),
        'organization_identifiers',
        ['organization_id'],
        unique=False,
    )
    # Plain ADD COLUMN on both databases: SQLite keeps the tables (and their triggers) as they are.
    op.add_column('people', sa.Column('name_native_lang', sa.String(length=35), nullable=True))
    op.add_column('people', sa.Column('death_date', sa.Date(), nullable=True))
    op.add_column('people', sa.Column('death_date_precision', sa.String(length=8), nullable=True))
    op.add_column(
        'people', sa.Column('links', sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
    )
    op.add_column(
        'organizations',
        sa.Column('links', sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
    )
    op.add_column('memberships', sa.Column('area', sa.String(length=200), nullable=True))


def downgrade():
    op.drop_column('memberships', 'area')
    op.drop_column('organizations', 'links')
    for column in ('links', 'death_date_precision', 'death_date', 'name_native_lang'):
        op.drop_column('people', column)
    op.drop_index(
        op.f('ix_organization_identifiers_organization_id'), table_name='organization_identifiers'
    )
    op.drop_table('organization_identifiers')
    op.drop_index(op.f('ix_person_identifiers_person_id'), table_name='person_identifiers')
    op.drop_table('person_identifiers')
