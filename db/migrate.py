"""Alembic migrations run programmatically (`duban db init`)."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head", old_attachments: Path | None = None,
            notes: list[str] | None = None) -> None:
    """Create or upgrade the schema to `revision`; safe to run twice. `old_attachments` is
    the folder attachments were kept in before 0009 moved them into the database; what a
    migration has to say (files it moved or could not find) is appended to `notes`."""
    cfg = alembic_config(engine)
    cfg.attributes["old_attachments"] = old_attachments
    cfg.attributes["notes"] = notes if notes is not None else []
    command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
