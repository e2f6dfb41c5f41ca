"""factor secrets sealed at rest; sessions remember when they last re-authenticated

The authenticator apps' shared secrets are encrypted (AES-256-GCM, a key derived from
MONITOR_FACTOR_KEY, else MONITOR_SECRET_KEY: monitor/services/second_factor/sealing.py) in place,
so this migration reads the app's settings: run it with the settings the app runs with. The
downgrade opens them again.

Revision ID: 0012_factor_secrets
Revises: 0008_claim_owner
Create Date: 2026-12-11 09:00:00

"""
from alembic import op
import sqlalchemy as sa
from flask import current_app

from monitor.services.second_factor import sealing


revision = '0012_factor_secrets'
down_revision = '0015_case_counts'
branch_labels = None
depends_on = None

totp_factors = sa.table(
    'totp_factors',
    sa.column('id', sa.Integer()),
    sa.column('user_id', sa.Integer()),
    sa.column('secret', sa.String()),
)
users = sa.table('users', sa.column('id', sa.Integer()), sa.column('public_id', sa.String()))


def _keys():
    settings = current_app.config['SETTINGS']
    return sealing.keys_for(settings.factor_key, settings.secret_key)


def _secrets(connection):
    return connection.execute(
        sa.select(totp_factors.c.id, totp_factors.c.secret, users.c.public_id).join(
            users, users.c.id == totp_factors.c.user_id
        )
    ).all()


def upgrade():
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reauthenticated_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('totp_factors', schema=None) as batch_op:
        batch_op.alter_column(
            'secret', existing_type=sa.String(length=64), type_=sa.String(length=200),
            existing_nullable=False,
        )
    connection = op.get_bind()
    rows = _secrets(connection)
    if not rows:
        return
    key = _keys()[0]
    for row_id, secret, owner in rows:
        if not sealing.is_sealed(secret):
            connection.execute(
                totp_factors.update()
                .where(totp_factors.c.id == row_id)
                .values(secret=sealing.seal(secret, owner, key))
            )


def downgrade():
    connection = op.get_bind()
    rows = _secrets(connection)
    keys = _keys() if rows else ()
    for row_id, secret, owner in rows:
        if sealing.is_sealed(secret):
            connection.execute(
                totp_factors.update()
                .where(totp_factors.c.id == row_id)
                .values(secret=sealing.open_sealed(secret, owner, keys))
            )
    with op.batch_alter_table('totp_factors', schema=None) as batch_op:
        batch_op.alter_column(
            'secret', existing_type=sa.String(length=200), type_=sa.String(length=64),
            existing_nullable=False,
        )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_column('reauthenticated_at')
