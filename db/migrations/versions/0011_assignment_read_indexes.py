"""assignment indexes for the web's reads at scale

Two indexes the read paths of issue 16 use (bench/web.py, 100,000 assignments):

- `ix_assignment_department_state_due` (department_id, state, due_date) replaces
  `ix_assignment_department_state` (its prefix): the 首页 counts (queries.light_counts,
  grouped by department and state, split by due date) read the index alone instead of
  every row, and one department's list is found through it as before.
- `ix_assignment_state_updated` (state, updated_at, id): the first items of the review
  queue (oldest first) are read in index order instead of sorting every submitted row.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 03:20:00.000000
"""
from typing import Sequence, Union

from alembic import op


revision: str = '0011'
down_revision: Union[str, None] = '0010'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index('ix_assignment_department_state_due', 'assignment', ['department_id', 'state', 'due_date'])
    op.drop_index('ix_assignment_department_state', table_name='assignment')
    op.create_index('ix_assignment_state_updated', 'assignment', ['state', 'updated_at', 'id'])


def downgrade() -> None:
    op.drop_index('ix_assignment_state_updated', table_name='assignment')
    op.create_index('ix_assignment_department_state', 'assignment', ['department_id', 'state'])
    op.drop_index('ix_assignment_department_state_due', table_name='assignment')
