"""attachments in the database

Attachments move from a folder relative to the current directory (`./duban-files`, or
DUBAN_DATA) into the database: `attachment_blob` (one row per content, keyed by sha256)
and `attachment_chunk` (the content in pieces of at most 1 MiB), so every machine that
uses the database sees the same files. `attachment.stored_path` goes.

The upgrade copies each recorded file it finds in the old store (the folder given as
the Alembic config attribute `old_attachments`; `duban db init` passes the old default
or DUBAN_DATA) and checks its sha256; what it cannot find, or finds changed, it lists
in the config attribute `notes` (a list) so that `db init` can say so. Those records
keep their name, size and sha256; fetching them says the content is missing.

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-30 01:40:00.000000
"""
import hashlib
from pathlib import Path
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = '0009'
down_revision: Union[str, None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

CHUNK = 1 << 20


def upgrade() -> None:
    op.create_table('attachment_blob',
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('sha256')
    )
    op.create_table('attachment_chunk',
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('idx', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('sha256', 'idx')
    )
    attributes = op.get_context().config.attributes
    old = attributes.get("old_attachments")
    notes = attributes.setdefault("notes", [])
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT DISTINCT sha256, stored_path FROM attachment ORDER BY sha256")).all()
    moved = set()
    for sha, stored_path in rows:
        if sha in moved:
            continue
        path = Path(old) / stored_path if old else None
        if path is None or not path.is_file():
            notes.append(f"附件内容 {sha} 未在旧存储 {old or '(未指定)'} 中找到({stored_path})。")
            continue
        digest, size, idx = hashlib.sha256(), 0, 0
        with open(path, "rb") as src:
            for piece in iter(lambda: src.read(CHUNK), b""):
                digest.update(piece)
                conn.execute(sa.text("INSERT INTO attachment_chunk (sha256, idx, data) VALUES (:s, :i, :d)"),
                             {"s": "~migrating", "i": idx, "d": piece})
                size += len(piece)
                idx += 1
        if digest.hexdigest() != sha:
            conn.execute(sa.text("DELETE FROM attachment_chunk WHERE sha256 = '~migrating'"))
            notes.append(f"旧存储中的 {stored_path} 内容已改变(sha256 不符),未迁移。")
            continue
        conn.execute(sa.text("UPDATE attachment_chunk SET sha256 = :s WHERE sha256 = '~migrating'"), {"s": sha})
        conn.execute(sa.text("INSERT INTO attachment_blob (sha256, size) VALUES (:s, :n)"), {"s": sha, "n": size})
        moved.add(sha)
    if moved:
        notes.append(f"已把旧存储 {old} 中的 {len(moved)} 份附件内容移入数据库;旧文件夹可在核对后删除。")
    op.execute("ALTER TABLE attachment DROP COLUMN stored_path")


def downgrade() -> None:
    """Back to stored paths; the content stays only in the tables being dropped, so a
    downgrade writes nothing to disk: fetch the files first (duban task attachment)."""
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stored_path', sqlmodel.sql.sqltypes.AutoString(length=500),
                                      nullable=False, server_default=''))
    op.execute("UPDATE attachment SET stored_path = substr(sha256, 1, 2) || '/' || sha256")
    op.drop_table('attachment_chunk')
    op.drop_table('attachment_blob')
