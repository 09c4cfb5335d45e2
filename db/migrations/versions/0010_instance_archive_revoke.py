"""instance id, plan archive, delegation revoke

- `instance`: one row holding a random id made when the database is created (or first
  upgraded to this revision). Message-IDs and calendar UIDs carry it, so two databases
  (a demo and a real one, last year's and this year's) never produce the same
  identifier for different mails or events.
- `plan.archived_at`: `duban plan archive` hides a plan from lists and frees its title
  for a new import; nothing is deleted.
- `delegation.revoked_at`: `duban delegate revoke` ends a delegation; the record stays.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 00:40:00.000000
"""
import secrets
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0010'
down_revision: Union[str, None] = '0009'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    instance = op.create_table(
        'instance',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('instance_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.bulk_insert(instance, [{"id": 1, "instance_id": secrets.token_hex(8)}])
    # Plain ADD/DROP COLUMN (SQLite 3.35+, as in 0004): a batch copy of `plan` would fail on
    # the foreign keys of every assignment, task and event that references it.
    op.add_column('plan', sa.Column('archived_at', sa.DateTime(), nullable=True))
    op.add_column('delegation', sa.Column('revoked_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE delegation DROP COLUMN revoked_at")
    op.execute("ALTER TABLE plan DROP COLUMN archived_at")
    op.drop_table('instance')
