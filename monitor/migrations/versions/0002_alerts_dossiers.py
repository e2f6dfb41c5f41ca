"""alerts and dossiers: subscriptions, alert deliveries, the status-event outbox flag, dossiers

Revision ID: 0002_alerts_dossiers
Revises: 0001_register
Create Date: 2026-11-29 16:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0002_alerts_dossiers'
down_revision = '0001_register'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'subscriptions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=16), nullable=False),
        sa.Column('email', sa.String(length=320), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('organization_name', sa.String(length=200), nullable=True),
        sa.Column('scope', sa.String(length=16), nullable=False),
        sa.Column('scope_country', sa.String(length=2), nullable=True),
        sa.Column('scope_organization_id', sa.Integer(), nullable=True),
        sa.Column('scope_case_id', sa.Integer(), nullable=True),
        sa.Column('mode', sa.String(length=12), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('confirm_token_hash', sa.String(length=64), nullable=True),
        sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('unsubscribe_token', sa.String(length=64), nullable=False),
        sa.Column('unsubscribed_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['scope_case_id'], ['cases.id'], name=op.f('fk_subscriptions_scope_case_id_cases'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['scope_organization_id'], ['organizations.id'], name=op.f('fk_subscriptions_scope_organization_id_organizations'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_subscriptions_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_subscriptions')),
        sa.UniqueConstraint('confirm_token_hash', name=op.f('uq_subscriptions_confirm_token_hash')),
        sa.UniqueConstraint('unsubscribe_token', name=op.f('uq_subscriptions_unsubscribe_token')),
    )
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_subscriptions_email'), ['email'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscriptions_public_id'), ['public_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_subscriptions_scope_case_id'), ['scope_case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscriptions_scope_organization_id'), ['scope_organization_id'], unique=False)

    op.create_table(
        'alert_deliveries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=16), nullable=False),
        sa.Column('status_event_id', sa.Integer(), nullable=False),
        sa.Column('subscription_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('message_id', sa.String(length=200), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['status_event_id'], ['status_events.id'], name=op.f('fk_alert_deliveries_status_event_id_status_events'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('fk_alert_deliveries_subscription_id_subscriptions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_deliveries')),
        sa.UniqueConstraint('status_event_id', 'subscription_id', name=op.f('uq_alert_deliveries_status_event_id')),
    )
    with op.batch_alter_table('alert_deliveries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_deliveries_public_id'), ['public_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_alert_deliveries_state'), ['state'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_deliveries_status_event_id'), ['status_event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_deliveries_subscription_id'), ['subscription_id'], unique=False)

    op.create_table(
        'dossiers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=16), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('scope', sa.JSON(), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('audience', sa.String(length=20), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('progress', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('pdf', sa.LargeBinary(), nullable=True),
        sa.Column('sha256', sa.String(length=64), nullable=True),
        sa.Column('pages', sa.Integer(), nullable=True),
        sa.Column('size', sa.Integer(), nullable=True),
        sa.Column('content_key', sa.String(length=64), nullable=True),
        sa.Column('snapshot_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_dossiers_requested_by_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dossiers')),
    )
    with op.batch_alter_table('dossiers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dossiers_content_key'), ['content_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossiers_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossiers_public_id'), ['public_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_dossiers_requested_by_id'), ['requested_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dossiers_state'), ['state'], unique=False)

    with op.batch_alter_table('status_events', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('alerts_pending', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.create_index(batch_op.f('ix_status_events_alerts_pending'), ['alerts_pending'], unique=False)


def downgrade():
    with op.batch_alter_table('status_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_status_events_alerts_pending'))
        batch_op.drop_column('alerts_pending')
    op.drop_table('dossiers')
    op.drop_table('alert_deliveries')
    op.drop_table('subscriptions')
