"""Plan services: import (dry run included), list, show, export, publish.

A front end calls these with a Context and renders what they return; the warnings of an
import are returned, never printed.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import states
from workflow.access.scope import PLAN_OFFICE
from workflow.errors import BadInput, DubanError

if TYPE_CHECKING:  # pragma: no cover
    from workflow.context import Context
    from workflow.plans.model import Plan
    from workflow.plans.publish import PendingGroup, PublishReport, Resolution

EXPORT_FORMATS = ("yaml", "json", "xlsx")


@dataclass
class ImportOptions:
    dry_run: bool = False  # parse and check only; nothing is written and no login is needed
    year: int | None = None  # for files that do not say their year
    draft: Path | None = None  # write the draft (.yaml/.xlsx) instead of importing


@dataclass
class DraftResult:
    path: Path
    tasks: int
    marked: int  # cells marked for checking


@dataclass
class ImportResult:
    plan: "Plan"
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    plan_id: int | None = None  # the stored plan (None for a dry run)
    title: str | None = None


def import_plan(ctx: "Context", source: Path, options: ImportOptions | None = None) -> ImportResult:
    """Read a plan file (.txt/.docx/.xlsx/.yaml/.json), check its department names against
    the directory (when there is one), and store it unless this is a dry run."""
    from workflow.importers import load_plan
    from workflow.plans.groups import review_warnings

    options = options or ImportOptions()
    if not options.dry_run:  # refuse before parsing: a dry run needs no login
        with ctx.session() as session:
            ctx.require(session, states.manages_plans, PLAN_OFFICE)
    from workflow.importers.draft import check_importable

    plan = check_importable(load_plan(source, year=options.year), source)
    plan.warnings += review_warnings(plan, _directory_for_review(ctx))
    result = ImportResult(plan, plan.warnings, options.dry_run)
    if options.dry_run:
        return result
    from workflow.plans.store import store_plan

    with ctx.session() as session:
        row = store_plan(session, plan, ctx.clock)
        result.plan_id, result.title = row.id, row.title
    return result


def write_draft(source: Path, out: Path, year: int | None = None) -> DraftResult:
    """Write what the importer understood of `source` as a draft to correct (the doubtful
    cells marked); nothing is imported, so no login is needed."""
    from workflow.importers import load_plan
    from workflow.importers.draft import check_draft_path, write_draft as write

    check_draft_path(out, source)
    report = write(load_plan(source, year=year), out, source)
    return DraftResult(report.path, report.tasks, report.marked)


def _directory_for_review(ctx: "Context") -> list | None:
    """The directory to check the plan's names against, None if there is none yet.

    A SQLite file is read directly (db/peek.py), so the dry run stays off the ORM (it
    would cost several times the whole dry run); other databases go through a session."""
    from db.peek import peek_departments, sqlite_path

    path = sqlite_path(ctx.db_url)
    if path is not None:
        if not path.exists():
            return None  # a first import: no database, so no directory
        found = peek_departments(path)
        if found is not None:
            return found or None
    try:
        from workflow.directory.store import list_departments

        with ctx.session() as session:
            return list_departments(session) or None
    except DubanError:  # not initialised or unreachable: check what can be checked without it
        return None


def list_plans(ctx: "Context", archived: bool = False) -> list[dict[str, Any]]:
    """Every plan with its counts (any signed-in user); archived ones only with `archived`."""
    from workflow.plans.store import list_plans as rows

    with ctx.session() as session:
        ctx.viewer(session)
        return rows(session, archived)


def archive(ctx: "Context", ref: str) -> Any:
    """Archive a plan (reviewers and admins): hidden from lists, its title free again."""
    from workflow.access.scope import ARCHIVE_PLAN
    from workflow.plans.store import archive_plan, find_plan

    with ctx.session() as session:
        ctx.require(session, states.manages_plans, ARCHIVE_PLAN)
        return archive_plan(session, find_plan(session, ref), ctx.clock)


@dataclass
class PlanView:
    id: int
    published: bool
    plan: "Plan"


def show(ctx: "Context", ref: str) -> PlanView:
    """One plan (by id or words of its title) in the canonical model."""
    from workflow.plans.store import find_plan, plan_of

    with ctx.session() as session:
        ctx.viewer(session)
        row = find_plan(session, ref)
        return PlanView(row.id, row.published_at is not None, plan_of(row))


def export(ctx: "Context", ref: str, fmt: str = "yaml") -> str:
    """The plan's canonical text (yaml or json), to edit and import again."""
    if fmt not in ("yaml", "json"):
        raise BadInput(f"--format {fmt} 无效，应为 yaml 或 json。")
    data = show(ctx, ref).plan.to_dict()
    if fmt == "json":
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    import yaml

    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000)


def export_workbook(ctx: "Context", ref: str, out: Path) -> None:
    """The plan as a workbook in the template's form (import it back unchanged)."""
    from workflow.importers.workbook import write_export

    write_export(show(ctx, ref).plan, out)


def pending(ctx: "Context", ref: str, resolution: "Resolution") -> tuple[list["PendingGroup"], list]:
    """What publishing would still ask: the "relevant" groups `resolution` leaves open and
    the departments to choose from. Refuses early someone who may not publish."""
    from workflow.directory.store import list_departments
    from workflow.plans.publish import check_can_publish, pending_groups
    from workflow.plans.store import find_plan

    with ctx.session() as session:
        check_can_publish(ctx.actor(session))
        return pending_groups(session, find_plan(session, ref), resolution), list_departments(session)


def publish(ctx: "Context", ref: str, resolution: "Resolution | None" = None,
            progress: Callable[[int, int], None] | None = None) -> "PublishReport":
    """Create every assignment of the plan (task × department × role × period), once;
    mails each department its new items."""
    from workflow.lifecycle.service import notifier
    from workflow.plans.publish import publish as publish_plan
    from workflow.plans.store import find_plan

    with ctx.session() as session:
        actor = ctx.actor(session)
        plan = find_plan(session, ref)
        return publish_plan(session, plan, actor, ctx.clock, resolution or {}, progress, notifier(ctx))
