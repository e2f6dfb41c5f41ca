"""languages: a user's chosen language, a subscriber's email language, a dossier's language

Revision ID: 0018_languages
Revises: 0012_factor_secrets
Create Date: 2026-12-22 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0018_languages'
down_revision = '0016_page_indexes'
branch_labels = None
depends_on = None


def upgrade():
    # None: the user has not chosen, and the browser's Accept-Language decides.
    with op.batch_alter_table('users') as batch:
        batch.add_column(sa.Column('language', sa.String(length=16), nullable=True))
    # Everyone subscribed and every dossier made before languages were English.
    with op.batch_alter_table('subscriptions') as batch:
        batch.add_column(
            sa.Column('language', sa.String(length=16), nullable=False, server_default='en')
        )
    with op.batch_alter_table('dossiers') as batch:
        batch.add_column(
            sa.Column('language', sa.String(length=16), nullable=False, server_default='en')
        )


def downgrade():
    with op.batch_alter_table('dossiers') as batch:
        batch.drop_column('language')
    with op.batch_alter_table('subscriptions') as batch:
        batch.drop_column('language')
    with op.batch_alter_table('users') as batch:
        batch.drop_column('language')
