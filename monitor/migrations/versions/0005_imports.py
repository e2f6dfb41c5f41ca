"""CSV imports: the imports table and the cases' external id rows are matched on

Revision ID: 0005_imports
Revises: 0004_alerts_delivery_schedule
Create Date: 2026-12-02 18:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0005_imports'
down_revision = '0004_alerts_delivery_schedule'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_id', sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_cases_external_id'), ['external_id'])

    op.create_table(
        'imports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=16), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('rows', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('progress', sa.Integer(), nullable=False),
        sa.Column('errors', sa.JSON(), nullable=False),
        sa.Column('summary', sa.JSON(), nullable=False),
        sa.Column('failure', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_imports_requested_by_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_imports')),
    )
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_imports_public_id'), ['public_id'], unique=True)
        batch_op.create_index(batch_op.f('ix_imports_requested_by_id'), ['requested_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_imports_state'), ['state'], unique=False)


def downgrade():
    with op.batch_alter_table('imports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_imports_state'))
        batch_op.drop_index(batch_op.f('ix_imports_requested_by_id'))
        batch_op.drop_index(batch_op.f('ix_imports_public_id'))
    op.drop_table('imports')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_cases_external_id'), type_='unique')
        batch_op.drop_column('external_id')
