"""The layers of ARCHITECTURE.md, checked on the import graph (every import statement,
including the ones inside functions, read with ast):

- the library (workflow/, states/, db/, notifications/) never imports typer, click or the
  command line (commands/, cli);
- the web front end (web/) never imports the command line either, nor a private name
  (_x) of the library: it calls the library's public services, as commands/ does;
- db/ and states/ never import workflow/ (states/ imports nothing of ours at all);
- no cycle between the top-level packages, and no cycle between modules (a package's
  __init__ re-exporting its own modules aside);
- every name states/ declares for behaviour has its implementation (validators, row
  change sources, event data, audiences, mail templates).
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import states

ROOT = Path(__file__).resolve().parent.parent
OURS = ("workflow", "states", "db", "notifications", "commands", "cli", "web")
LIBRARY = ("workflow", "states", "db", "notifications")
FRONT_END = ("typer", "click", "commands", "cli")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    found = {"cli": ROOT / "cli.py"}
    for top in ("workflow", "states", "db", "notifications", "commands", "web"):
        for path in (ROOT / top).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            found[_module_name(path)] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every module `name` imports (absolute names; `from p import m` counts as p.m when m is a module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1] + ([base] if base else []))
            out.add(base)
            for alias in node.names:
                if f"{base}.{alias.name}" in MODULES:
                    out.add(f"{base}.{alias.name}")
    return {m for m in out if m}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _top(module: str) -> str:
    return module.split(".")[0]


def _ours(module: str) -> bool:
    return _top(module) in OURS


@pytest.mark.parametrize("name", sorted(n for n in MODULES if _top(n) in LIBRARY))
def test_the_library_never_imports_a_front_end(name):
    bad = sorted(m for m in GRAPH[name] if _top(m) in FRONT_END)
    assert not bad, f"{name} imports {bad}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if _top(n) == "web"))
def test_the_web_never_imports_the_command_line(name):
    bad = sorted(m for m in GRAPH[name] if _top(m) in FRONT_END)
    assert not bad, f"{name} imports {bad}"


def _private_names(path: Path) -> list[str]:
    """`from <library module> import _name` and `<library module>._name` in one file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and _top(node.module or "") in LIBRARY:
            found += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            base = node.value
            if isinstance(base, ast.Name) and base.id in {"queries", "engine", "service", "scope"}:
                found.append(f"{base.id}.{node.attr}")
    return found


@pytest.mark.parametrize("name", sorted(n for n in MODULES if _top(n) == "web"))
def test_the_web_uses_no_private_name_of_the_library(name):
    assert _private_names(MODULES[name]) == [], f"{name} reaches into the library"


def test_the_web_checks_see_the_web(tmp_path):
    """The walks see web/ and find what they must refuse (a broken walk would pass)."""
    assert "web.lib" in MODULES and "workflow.lifecycle.service" in GRAPH["web.lib"]
    sample = tmp_path / "sample.py"
    sample.write_text("from workflow.lifecycle.engine import _VALIDATORS\nqueries._base()\n", encoding="utf-8")
    assert _private_names(sample) == ["workflow.lifecycle.engine._VALIDATORS", "queries._base"]


@pytest.mark.parametrize("name", sorted(n for n in MODULES if _top(n) in ("db", "states")))
def test_db_and_states_never_import_workflow(name):
    bad = sorted(m for m in GRAPH[name] if _top(m) == "workflow" or (_top(name) == "states" and _ours(m)
                                                                     and _top(m) != "states"))
    assert not bad, f"{name} imports {bad}"


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_no_cycle_between_packages():
    edges: dict[str, set[str]] = {}
    for name, imported in GRAPH.items():
        for m in imported:
            if _ours(m) and _top(m) != _top(name):
                edges.setdefault(_top(name), set()).add(_top(m))
    assert _cycles(edges) == []
    assert "workflow" in edges["commands"] and "states" in edges["workflow"]  # the walk saw the layers


def test_no_cycle_between_modules():
    edges = {name: {m for m in imported if m in MODULES and m != name} for name, imported in GRAPH.items()}
    # a package's __init__ importing its own modules (re-exports) is not a cycle of the design
    for name in edges:
        edges[name] = {m for m in edges[name] if not (name.startswith(m + ".") and MODULES[m].name == "__init__.py")}
    assert _cycles(edges) == []


def test_the_graph_is_read():
    """The walk sees the imports it must judge (a broken walk would pass every test above)."""
    assert "workflow.lifecycle.engine" in GRAPH["workflow.lifecycle.service"]
    assert "typer" in GRAPH["commands.task"]
    assert "workflow.lifecycle.service" in GRAPH["commands.lifecycle"]


# ---------------------------------------------------------------- states/ names have homes
def test_every_validator_row_source_and_event_datum_is_implemented():
    from workflow.lifecycle import engine

    assert set(engine._VALIDATORS) == set(states.VALIDATORS)
    used = {v for t in states.TRANSITIONS for v in t.validators}
    assert used <= set(states.VALIDATORS)
    assert {s for t in states.TRANSITIONS for _c, s in t.changes} <= set(states.ROW_SOURCES)
    assert {d for t in states.TRANSITIONS for d in t.data} <= set(states.EVENT_DATA)
    source = (ROOT / "workflow" / "lifecycle" / "engine.py").read_text(encoding="utf-8")
    for name in states.ROW_SOURCES + states.EVENT_DATA:
        assert f'"{name}"' in source, name


def test_every_audience_has_recipients_and_every_mail_kind_its_templates():
    from notifications.render import EVENT_KINDS, PACKAGE_TEMPLATES
    from workflow.lifecycle.notify import AUDIENCES

    assert set(AUDIENCES) == set(states.AUDIENCES)
    assert {t.audience for t in states.TRANSITIONS if t.notify} <= set(states.AUDIENCES)
    assert set(states.MAIL_KINDS) <= set(EVENT_KINDS)
    for kind in EVENT_KINDS:
        for suffix in (".subject.txt", ".txt", ".html"):
            assert (PACKAGE_TEMPLATES / f"{kind}{suffix}").is_file(), kind + suffix


def test_every_who_is_known_and_an_unknown_one_refuses():
    import dataclasses

    assert {t.who for t in states.TRANSITIONS} <= set(states.WHO_ROLES)
    odd = dataclasses.replace(states.TRANSITION_BY_TRIGGER["approve"], who="somebody")
    admin = states.Actor(1, frozenset({"admin", "reviewer", "staff", "head", "supervisor"}), 7)
    assert states.permission_problem(odd, admin, 7) is not None
    assert not states.may_fire_somewhere(odd, admin.roles)


def test_every_state_has_a_colour_and_closed_states_come_from_the_table():
    assert all(s.colour.startswith("#") for s in states.STATES)
    assert states.CLOSED_STATES == tuple(s.name for s in states.STATES if s.closed)
    assert set(states.OPEN_STATES) | set(states.CLOSED_STATES) == set(states.STATE_BY_NAME)


def test_every_error_says_how_a_front_end_answers_it():
    """Front ends map errors, never sentences: an exit code for the CLI, an HTTP status for the web."""
    from workflow import errors

    expected = {  # written out: a change to the mapping must be deliberate
        errors.NotAuthenticated: (1, 401), errors.NotPermitted: (1, 403), errors.NotFound: (1, 404),
        errors.InvalidMove: (1, 409), errors.LostRace: (1, 409), errors.Refused: (1, 409),
        errors.BadInput: (2, 422), errors.MissingField: (2, 422), errors.DatabaseProblem: (1, 503),
    }
    for cls, (exit_code, status) in expected.items():
        assert (cls.exit_code, cls.http_status) == (exit_code, status), cls.__name__
        assert cls("句子。").message == "句子。" and cls.kind
    assert len({cls.kind for cls in expected}) == len(expected)
