"""web sessions and mail links

Two tables for the web front end (web/): `web_session`, a signed-in browser's session
(only a hash of the cookie is stored; the expiry lives here, not in the cookie), and
`mail_link`, the single-use links in reviewers' mails (again only a hash; bound to one
reviewer and one assignment, with an expiry and the moment it was used).

`token_hash` in a session is the user's token hash when they signed in: a rotated or
revoked token no longer matches it, which ends the session at the next request.

Revision ID: 0007
Revises: 0004 (the coordinator re-points this at the head it is merged onto)
Create Date: 2026-11-30 00:30:00.000000
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


revision: str = '0007'
down_revision: Union[str, None] = '0006'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        'web_session',
        sa.Column('id', sa.String(length=64), primary_key=True),  # sha256 of the cookie value
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('app_user.id'), nullable=False, index=True),
        sa.Column('token_hash', sa.String(length=300), nullable=False),
        sa.Column('csrf', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
    )
    op.create_table(
        'mail_link',
        sa.Column('id', sa.String(length=64), primary_key=True),  # sha256 of the link's secret
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('app_user.id'), nullable=False),
        sa.Column('assignment_id', sa.Integer(), sa.ForeignKey('assignment.id'), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('used_at', sa.DateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table('mail_link')
    op.drop_table('web_session')
