"""indexes the pages need at a million cases: members by name, offences by trigram

Revision ID: 0016_page_indexes
Revises: 0015_case_counts
Create Date: 2026-12-21 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0016_page_indexes'
down_revision = '0017_temporary_passwords'
branch_labels = None
depends_on = None

# memberships.person_name copies the person's name so that an organization's members can be
# read by name from one index, a page at a time. Triggers keep it on every write, whoever
# writes (the services, an import, a script): a membership takes its person's name when it is
# inserted or moved to another person, and a renamed person renames their memberships.
_POSTGRESQL = [
    """
    CREATE FUNCTION memberships_person_name() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.person_name := (SELECT name FROM people WHERE id = NEW.person_id);
      RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER memberships_person_name BEFORE INSERT OR UPDATE OF person_id, person_name
    ON memberships FOR EACH ROW EXECUTE FUNCTION memberships_person_name()
    """,
    """
    CREATE FUNCTION people_name_to_memberships() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE memberships SET person_name = NEW.name WHERE person_id = NEW.id;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER people_name_to_memberships AFTER UPDATE OF name ON people
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION people_name_to_memberships()
    """,
    # The case list's offence filter (any charge's offence containing the text, any case):
    # a trigram index serves a rare offence, and its statistics tell the planner how common
    # an offence is, so a common one walks the list's order instead of reading every charge.
    """
    CREATE INDEX ix_charges_offence_trgm ON charges USING gin (lower(offence) gin_trgm_ops)
    """,
]
_POSTGRESQL_DROP = [
    'DROP INDEX IF EXISTS ix_charges_offence_trgm',
    'DROP TRIGGER IF EXISTS people_name_to_memberships ON people',
    'DROP TRIGGER IF EXISTS memberships_person_name ON memberships',
    'DROP FUNCTION IF EXISTS people_name_to_memberships()',
    'DROP FUNCTION IF EXISTS memberships_person_name()',
]
_SQLITE_NAME = (
    "UPDATE memberships SET person_name = (SELECT name FROM people WHERE id = NEW.person_id)"
    " WHERE id = NEW.id;"
)
_SQLITE = [
    f"CREATE TRIGGER memberships_person_name_insert AFTER INSERT ON memberships"
    f" BEGIN {_SQLITE_NAME} END",
    f"CREATE TRIGGER memberships_person_name_update AFTER UPDATE OF person_id, person_name"
    f" ON memberships WHEN NEW.person_name IS NOT (SELECT name FROM people WHERE id = NEW.person_id)"
    f" BEGIN {_SQLITE_NAME} END",
    "CREATE TRIGGER people_name_to_memberships AFTER UPDATE OF name ON people"
    " WHEN OLD.name IS NOT NEW.name"
    " BEGIN UPDATE memberships SET person_name = NEW.name WHERE person_id = NEW.id; END",
]
_SQLITE_DROP = [
    f'DROP TRIGGER IF EXISTS {name}'
    for name in (
        'people_name_to_memberships', 'memberships_person_name_update',
        'memberships_person_name_insert',
    )
]


def upgrade():
    op.add_column('memberships', sa.Column('person_name', sa.String(length=200), nullable=True))
    op.execute(
        'UPDATE memberships SET person_name = '
        '(SELECT name FROM people WHERE people.id = memberships.person_id)'
    )
    op.create_index(
        'ix_memberships_organization_name',
        'memberships',
        ['organization_id', 'person_name', 'id'],
        unique=False,
    )
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
    for statement in _POSTGRESQL if dialect == 'postgresql' else _SQLITE:
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in _POSTGRESQL_DROP if dialect == 'postgresql' else _SQLITE_DROP:
        op.execute(statement)
    op.drop_index('ix_memberships_organization_name', table_name='memberships')
    if dialect == 'sqlite':
        # SQLite drops the column in place (3.35+): a batch copy would rename the table under
        # 0015's count triggers, which name it, and fail.
        op.execute('ALTER TABLE memberships DROP COLUMN person_name')
    else:
        op.drop_column('memberships', 'person_name')
