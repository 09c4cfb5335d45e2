"""directory version, mail context

Two things fire() needed to stop doing inside its transaction:

- `directory_version`: one row whose `version` counts changes to the recipient
  directory (app_user, department, delegation) and whose `stamp` is a fresh random
  value at every change. Database triggers bump it in the same transaction as the
  change, whatever code (or hand-written SQL) made it, so a process may keep the
  directory it loaded in memory for as long as the stamp it read is still the one in
  the database (workflow/recipients.py). The stamp, not the counter, is the cache key:
  a rolled-back change can leave a counter value that another change reuses, never a
  stamp. (On SQLite a later migration that rebuilds one of these tables with a batch
  copy drops its triggers with it: such a migration must create them again.)
- `notification.context`: a mail's kind and the values it is rendered from (JSON),
  written with the event; the dispatcher (and `outbox list`) renders it later and
  stores subject, text and html on the row when it sends. Rows written before this
  revision, and digests, keep their rendered text and no context.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 00:30:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0005'
down_revision: Union[str, None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

DIRECTORY_TABLES = ("app_user", "department", "delegation")


def upgrade() -> None:
    op.create_table('directory_version',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('stamp', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('context', sa.JSON(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("INSERT INTO directory_version (id, version, stamp) VALUES (1, 0, md5(random()::text || clock_timestamp()::text))")
        op.execute("""
            CREATE OR REPLACE FUNCTION duban_bump_directory_version() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                UPDATE directory_version SET version = version + 1,
                       stamp = md5(random()::text || clock_timestamp()::text) WHERE id = 1;
                RETURN NULL;
            END $$""")
        for table in DIRECTORY_TABLES:
            op.execute(f"CREATE TRIGGER {table}_directory_version AFTER INSERT OR UPDATE OR DELETE "
                       f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION duban_bump_directory_version()")
    else:
        op.execute("INSERT INTO directory_version (id, version, stamp) VALUES (1, 0, lower(hex(randomblob(16))))")
        for table in DIRECTORY_TABLES:
            for action in ("INSERT", "UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER {table}_{action.lower()}_directory_version AFTER {action} "
                           f"ON {table} BEGIN UPDATE directory_version SET version = version + 1, "
                           f"stamp = lower(hex(randomblob(16))) WHERE id = 1; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in DIRECTORY_TABLES:
            op.execute(f"DROP TRIGGER {table}_directory_version ON {table}")
        op.execute("DROP FUNCTION duban_bump_directory_version()")
    else:
        for table in DIRECTORY_TABLES:
            for action in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER {table}_{action}_directory_version")
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('context')
    op.drop_table('directory_version')
