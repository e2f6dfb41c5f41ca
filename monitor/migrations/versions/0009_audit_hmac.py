"""audit log keyed with HMAC-SHA-256: the head names the key's fingerprint

Existing entries keep their plain SHA-256 hashes until `monitor audit rekey --from-unkeyed`
checks them and chains them again under MONITOR_AUDIT_KEY (a migration must not need the key).

Revision ID: 0009_audit_hmac
Revises: 0007_alert_news
Create Date: 2026-12-10 09:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0009_audit_hmac'
down_revision = '0007_alert_news'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('key_id')
