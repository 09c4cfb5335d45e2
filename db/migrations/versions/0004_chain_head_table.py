"""chain head table

Moves each plan's hash-chain head from `plan.last_hash` to a narrow `chain_head` row.
Every fire moves the head, and on SQLite updating one column of a row rewrites the
whole row, which for `plan` includes the plan's source document (about 250 KB for a
plan of 10,000 assignments): moving the head cost more than all the fire's other
writes together. Heads are copied as they are; no hash changes.

`plan.last_hash` is dropped with ALTER TABLE … DROP COLUMN (SQLite 3.35+, which duban
already needs for RETURNING) rather than a batch copy of `plan`, which every
assignment, task and event references.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 10:00:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0004'
down_revision: Union[str, None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table('chain_head',
    sa.Column('plan_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.ForeignKeyConstraint(['plan_id'], ['plan.id'], ),
    sa.PrimaryKeyConstraint('plan_id')
    )
    op.execute("INSERT INTO chain_head (plan_id, last_hash) SELECT id, last_hash FROM plan")
    op.execute("ALTER TABLE plan DROP COLUMN last_hash")


def downgrade() -> None:
    with op.batch_alter_table('plan', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    op.execute("UPDATE plan SET last_hash = (SELECT h.last_hash FROM chain_head h WHERE h.plan_id = plan.id)")
    op.drop_table('chain_head')
