"""case counts per level, status and country (and per organization), kept by triggers

Revision ID: 0015_case_counts
Revises: 0008_claim_owner
Create Date: 2026-12-20 10:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0015_case_counts'
down_revision = '0008_claim_owner'
branch_labels = None
depends_on = None

# The counts follow every insert, update and delete of a case or a membership, in the same
# transaction. An organization counts each of its members' cases once, however many roles the
# member holds: a membership changes the counts only when it is the first (or the last) of its
# person in that organization.

_FILL = [
    """
    INSERT INTO case_counts (confidentiality, status, country, cases)
    SELECT confidentiality, status, country, count(*) FROM cases
    GROUP BY confidentiality, status, country
    """,
    """
    INSERT INTO organization_case_counts (organization_id, confidentiality, status, cases)
    SELECT o.organization_id, c.confidentiality, c.status, count(*)
    FROM cases c JOIN (SELECT DISTINCT person_id, organization_id FROM memberships) o
      ON o.person_id = c.person_id
    GROUP BY o.organization_id, c.confidentiality, c.status
    """,
]

# PostgreSQL: a row trigger on cases (each row adds or takes one, so many rows in one statement
# add up), and statement triggers with transition tables on memberships, so that two roles of
# one person in one organization, inserted or deleted by one statement, count once.
_POSTGRESQL = [
    """
    CREATE FUNCTION case_counts_case() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE case_counts SET cases = cases - 1
        WHERE confidentiality = OLD.confidentiality AND status = OLD.status
          AND country = OLD.country;
        UPDATE organization_case_counts SET cases = cases - 1
        WHERE organization_id IN (
            SELECT organization_id FROM memberships WHERE person_id = OLD.person_id)
          AND confidentiality = OLD.confidentiality AND status = OLD.status;
      END IF;
      IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO case_counts (confidentiality, status, country, cases)
        VALUES (NEW.confidentiality, NEW.status, NEW.country, 1)
        ON CONFLICT (confidentiality, status, country)
        DO UPDATE SET cases = case_counts.cases + 1;
        INSERT INTO organization_case_counts (organization_id, confidentiality, status, cases)
        SELECT DISTINCT organization_id, NEW.confidentiality, NEW.status, 1
        FROM memberships WHERE person_id = NEW.person_id
        ON CONFLICT (organization_id, confidentiality, status)
        DO UPDATE SET cases = organization_case_counts.cases + 1;
      END IF;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER case_counts_case AFTER INSERT OR DELETE
      OR UPDATE OF confidentiality, status, country, person_id
    ON cases FOR EACH ROW EXECUTE FUNCTION case_counts_case()
    """,
    # Pairs (person, organization) that did not exist before the statement and do now are
    # added; pairs that existed and do no more are taken away.
    """
    CREATE FUNCTION case_counts_pairs_added() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO organization_case_counts (organization_id, confidentiality, status, cases)
      SELECT p.organization_id, c.confidentiality, c.status, count(*)
      FROM (SELECT DISTINCT person_id, organization_id FROM added) p
      JOIN cases c ON c.person_id = p.person_id
      WHERE NOT EXISTS (
          SELECT 1 FROM memberships m
          WHERE m.person_id = p.person_id AND m.organization_id = p.organization_id
            AND m.id NOT IN (SELECT id FROM added))
      GROUP BY p.organization_id, c.confidentiality, c.status
      ON CONFLICT (organization_id, confidentiality, status)
      DO UPDATE SET cases = organization_case_counts.cases + EXCLUDED.cases;
      RETURN NULL;
    END $$
    """,
    """
    CREATE FUNCTION case_counts_pairs_removed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE organization_case_counts o SET cases = o.cases - gone.n
      FROM (
          SELECT p.organization_id, c.confidentiality, c.status, count(*) AS n
          FROM (SELECT DISTINCT person_id, organization_id FROM removed) p
          JOIN cases c ON c.person_id = p.person_id
          WHERE NOT EXISTS (
              SELECT 1 FROM memberships m
              WHERE m.person_id = p.person_id AND m.organization_id = p.organization_id)
          GROUP BY p.organization_id, c.confidentiality, c.status
      ) gone
      WHERE o.organization_id = gone.organization_id
        AND o.confidentiality = gone.confidentiality AND o.status = gone.status;
      RETURN NULL;
    END $$
    """,
    # An update moves a membership: counted as the old pair removed, then the new one added.
    # (Both read the table after the statement; the "added" check then ignores the updated rows,
    # whose old pair the "removed" check has already settled.)
    """
    CREATE FUNCTION case_counts_pairs_moved() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE organization_case_counts o SET cases = o.cases - gone.n
      FROM (
          SELECT p.organization_id, c.confidentiality, c.status, count(*) AS n
          FROM (SELECT DISTINCT person_id, organization_id FROM removed
                EXCEPT SELECT DISTINCT person_id, organization_id FROM memberships) p
          JOIN cases c ON c.person_id = p.person_id
          GROUP BY p.organization_id, c.confidentiality, c.status
      ) gone
      WHERE o.organization_id = gone.organization_id
        AND o.confidentiality = gone.confidentiality AND o.status = gone.status;
      INSERT INTO organization_case_counts (organization_id, confidentiality, status, cases)
      SELECT p.organization_id, c.confidentiality, c.status, count(*)
      FROM (SELECT DISTINCT person_id, organization_id FROM added
            EXCEPT (SELECT person_id, organization_id FROM memberships
                    WHERE id NOT IN (SELECT id FROM added)
                    UNION SELECT person_id, organization_id FROM removed)) p
      JOIN cases c ON c.person_id = p.person_id
      GROUP BY p.organization_id, c.confidentiality, c.status
      ON CONFLICT (organization_id, confidentiality, status)
      DO UPDATE SET cases = organization_case_counts.cases + EXCLUDED.cases;
      RETURN NULL;
    END $$
    """,
    """
    CREATE TRIGGER case_counts_memberships_added AFTER INSERT ON memberships
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION case_counts_pairs_added()
    """,
    """
    CREATE TRIGGER case_counts_memberships_removed AFTER DELETE ON memberships
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION case_counts_pairs_removed()
    """,
    """
    CREATE TRIGGER case_counts_memberships_moved AFTER UPDATE ON memberships
    REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION case_counts_pairs_moved()
    """,
]

_POSTGRESQL_DROP = [
    'DROP TRIGGER IF EXISTS case_counts_memberships_moved ON memberships',
    'DROP TRIGGER IF EXISTS case_counts_memberships_removed ON memberships',
    'DROP TRIGGER IF EXISTS case_counts_memberships_added ON memberships',
    'DROP TRIGGER IF EXISTS case_counts_case ON cases',
    'DROP FUNCTION IF EXISTS case_counts_pairs_moved()',
    'DROP FUNCTION IF EXISTS case_counts_pairs_removed()',
    'DROP FUNCTION IF EXISTS case_counts_pairs_added()',
    'DROP FUNCTION IF EXISTS case_counts_case()',
]

# SQLite fires a row trigger as each row is written, so a statement's earlier rows are visible
# to its later rows' triggers and a row-by-row existence check is exact.
_SQLITE_TAKE = """
    UPDATE case_counts SET cases = cases - 1
    WHERE confidentiality = OLD.confidentiality AND status = OLD.status AND country = OLD.country;
    UPDATE organization_case_counts SET cases = cases - 1
    WHERE organization_id IN (SELECT organization_id FROM memberships WHERE person_id = OLD.person_id)
      AND confidentiality = OLD.confidentiality AND status = OLD.status;
"""
_SQLITE_ADD = """
    INSERT INTO case_counts (confidentiality, status, country, cases)
    VALUES (NEW.confidentiality, NEW.status, NEW.country, 1)
    ON CONFLICT (confidentiality, status, country) DO UPDATE SET cases = cases + 1;
    INSERT INTO organization_case_counts (organization_id, confidentiality, status, cases)
    SELECT DISTINCT organization_id, NEW.confidentiality, NEW.status, 1
    FROM memberships WHERE person_id = NEW.person_id
    ON CONFLICT (organization_id, confidentiality, status) DO UPDATE SET cases = cases + 1;
"""
_SQLITE_PAIR_GONE = """
    UPDATE organization_case_counts SET cases = cases - (
        SELECT count(*) FROM cases c WHERE c.person_id = OLD.person_id
          AND c.confidentiality = organization_case_counts.confidentiality
          AND c.status = organization_case_counts.status)
    WHERE organization_id = OLD.organization_id AND NOT EXISTS (
        SELECT 1 FROM memberships m
        WHERE m.person_id = OLD.person_id AND m.organization_id = OLD.organization_id);
"""
_SQLITE_PAIR_NEW = """
    INSERT INTO organization_case_counts (organization_id, confidentiality, status, cases)
    SELECT NEW.organization_id, c.confidentiality, c.status, count(*) FROM cases c
    WHERE c.person_id = NEW.person_id AND NOT EXISTS (
        SELECT 1 FROM memberships m WHERE m.person_id = NEW.person_id
          AND m.organization_id = NEW.organization_id AND m.id <> NEW.id)
    GROUP BY c.confidentiality, c.status
    ON CONFLICT (organization_id, confidentiality, status) DO UPDATE SET cases = cases + excluded.cases;
"""
_SQLITE = [
    f"CREATE TRIGGER case_counts_case_insert AFTER INSERT ON cases BEGIN {_SQLITE_ADD} END",
    f"CREATE TRIGGER case_counts_case_delete AFTER DELETE ON cases BEGIN {_SQLITE_TAKE} END",
    "CREATE TRIGGER case_counts_case_update"
    " AFTER UPDATE OF confidentiality, status, country, person_id ON cases"
    f" BEGIN {_SQLITE_TAKE} {_SQLITE_ADD} END",
    "CREATE TRIGGER case_counts_membership_insert AFTER INSERT ON memberships"
    f" BEGIN {_SQLITE_PAIR_NEW} END",
    "CREATE TRIGGER case_counts_membership_delete AFTER DELETE ON memberships"
    f" BEGIN {_SQLITE_PAIR_GONE} END",
    "CREATE TRIGGER case_counts_membership_update AFTER UPDATE OF person_id, organization_id"
    " ON memberships WHEN OLD.person_id <> NEW.person_id"
    " OR OLD.organization_id <> NEW.organization_id"
    f" BEGIN {_SQLITE_PAIR_GONE} {_SQLITE_PAIR_NEW} END",
]
_SQLITE_DROP = [
    f'DROP TRIGGER IF EXISTS {name}'
    for name in (
        'case_counts_membership_update', 'case_counts_membership_delete',
        'case_counts_membership_insert', 'case_counts_case_update', 'case_counts_case_delete',
        'case_counts_case_insert',
    )
]


def upgrade():
    op.create_table(
        'case_counts',
        sa.Column('confidentiality', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('country', sa.String(length=2), nullable=False),
        sa.Column('cases', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('confidentiality', 'status', 'country', name=op.f('pk_case_counts')),
    )
    op.create_table(
        'organization_case_counts',
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('confidentiality', sa.String(length=20), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('cases', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_organization_case_counts_organization_id_organizations'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('organization_id', 'confidentiality', 'status', name=op.f('pk_organization_case_counts')),
    )
    for statement in _FILL:
        op.execute(statement)
    dialect = op.get_bind().dialect.name
    for statement in _POSTGRESQL if dialect == 'postgresql' else _SQLITE:
        op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in _POSTGRESQL_DROP if dialect == 'postgresql' else _SQLITE_DROP:
        op.execute(statement)
    op.drop_table('organization_case_counts')
    op.drop_table('case_counts')
