"""Migration 0009 moves attachments from the old folder store (./duban-files or DUBAN_DATA)
into the database, on each backend: a file found is copied in 1 MiB pieces and checked
against its sha256; one missing or changed is listed in the notes `db init` prints; the
records keep name, size and sha256; `stored_path` goes. A downgrade restores the column."""
from __future__ import annotations

import hashlib
import os

from sqlalchemy import inspect, text

from db.migrate import upgrade
from test_migration_0003 import blank_engine  # noqa: F401  (the fixture: an empty database per backend)
from test_migrations import _fill_first_schema

MIB = 1 << 20


def _old_store(folder, content: bytes) -> str:
    sha = hashlib.sha256(content).hexdigest()
    path = folder / "attachments" / sha[:2] / sha
    path.parent.mkdir(parents=True)
    path.write_bytes(content)
    return sha


def test_old_files_move_into_the_database(blank_engine, tmp_path):
    engine = blank_engine
    upgrade(engine, "0004")
    _fill_first_schema(engine)
    found = os.urandom(2 * MIB + 7)
    sha = _old_store(tmp_path / "duban-files", found)
    changed_sha = _old_store(tmp_path / "duban-files", b"as submitted")
    (tmp_path / "duban-files" / "attachments" / changed_sha[:2] / changed_sha).write_bytes(b"edited later")
    lost_sha = hashlib.sha256(b"lost").hexdigest()
    with engine.begin() as conn:
        for i, (s, size) in enumerate(((sha, len(found)), (sha, len(found)), (changed_sha, 12), (lost_sha, 4)), 1):
            conn.execute(text("INSERT INTO attachment (id, assignment_id, event_id, name, sha256, size, stored_path) "
                              "VALUES (:i, 1, NULL, :n, :s, :z, :p)"),
                         {"i": i, "n": f"附件{i}.pdf", "s": s, "z": size, "p": f"{s[:2]}/{s}"})
    notes: list[str] = []
    upgrade(engine, old_attachments=tmp_path / "duban-files" / "attachments", notes=notes)

    with engine.connect() as conn:
        assert conn.execute(text("SELECT sha256, size FROM attachment_blob")).all() == [(sha, len(found))]
        pieces = conn.execute(text("SELECT idx, data FROM attachment_chunk WHERE sha256 = :s ORDER BY idx"),
                              {"s": sha}).all()
        assert [p.idx for p in pieces] == [0, 1, 2] and b"".join(bytes(p.data) for p in pieces) == found
        assert conn.execute(text("SELECT count(*) FROM attachment_chunk")).scalar() == 3
        assert conn.execute(text("SELECT count(*) FROM attachment")).scalar() == 4
    assert "stored_path" not in {c["name"] for c in inspect(engine).get_columns("attachment")}
    assert any(lost_sha in n and "未" in n for n in notes), notes
    assert any(changed_sha[:2] in n and "sha256 不符" in n for n in notes), notes
    assert any("1 份" in n for n in notes), notes

    from alembic import command

    from db.migrate import alembic_config

    command.downgrade(alembic_config(engine), "0004")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT stored_path FROM attachment WHERE id = 1")).scalar() == f"{sha[:2]}/{sha}"
