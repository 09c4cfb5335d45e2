"""Documents written with full-width punctuation (，：；（）) import as their ASCII form does.

Offices type plans in a Chinese input method; the corpus was stored with ASCII punctuation
(the crawl normalised it). Every corpus document is given back its full-width form
(`corpus_compare.full_width`) and must give the same plan: it still matches its expected
file, and every field, task, warning and doubt equals the ASCII original's once , : ; ( )
are read in one form — while the stored text keeps the document's own full-width marks.
A Word table in both forms is compared the same way (the .docx path reads cells, not lines).

A last check reads the importers' own source: a character class, a strip/split set or an
`in "…"` test there that names one form of a mark without its twin is this bug again.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import docx
import pytest

from corpus_compare import (FULL_WIDTH, check, documents, full_width, plan_differences,
                            year_of)
from workflow.importers import load_plan

DOCUMENTS = documents()
ROOT = Path(__file__).resolve().parent.parent


def _full_width_copy(document: Path, folder: Path) -> Path:
    copy = folder / document.name
    copy.write_text(full_width(document.read_text(encoding="utf-8")), encoding="utf-8")
    return copy


@pytest.mark.parametrize("document", DOCUMENTS, ids=[d.stem for d in DOCUMENTS])
def test_full_width_document_is_the_same_plan(document: Path, tmp_path: Path) -> None:
    source = _full_width_copy(document, tmp_path)
    assert source.read_text(encoding="utf-8") != document.read_text(encoding="utf-8")
    result = check(document, source)
    assert result.right, result.report()
    ascii_plan = load_plan(document, year=year_of(document))
    plan = load_plan(source, year=year_of(document))
    assert plan_differences(ascii_plan, plan) == []
    # the user's text is stored as the document wrote it, full-width marks and all
    for ascii_task, task in zip(ascii_plan.tasks, plan.tasks):
        for key in ("requirement", "chapter", "section", "note"):
            assert getattr(task, key) == _full_width_or_none(getattr(ascii_task, key)), (task.seq, key)


def _full_width_or_none(text: str | None) -> str | None:
    return None if text is None else text.translate(FULL_WIDTH)


# ---------------------------------------------------------------- Word tables

# one cell per line with merged cells; `|` rows whose title is a 名称: field
WORD_DOCUMENTS = ["seed_guangzhou_sfj_2021", "guangdong_2021_weijianwei"]


def _word_table(document: Path, path: Path, table: dict | None) -> Path:
    """The document's preamble and table as a .docx (cells merged down where the page's
    were), its text translated by `table`."""
    from workflow.importers.text import _delimited_rows, _line_rows, _split_body, clean_lines, find_header

    lines = clean_lines(document.read_text(encoding="utf-8"))
    header = find_header(lines)
    assert header is not None, f"{document.name} has no table header"
    body, tail = _split_body(lines[header.end:])
    rows = (_delimited_rows if header.delimiter else _line_rows)(body, header, [])
    real = [i for i, c in enumerate(header.columns) if not c.synthetic]
    word = docx.Document()
    for line in lines[: header.start]:
        word.add_paragraph(line.translate(table or {}))
    grid = word.add_table(rows=len(rows) + 1, cols=len(real))
    for c, k in enumerate(real):
        grid.cell(0, c).text = header.columns[k].title.translate(table or {})
        top = None
        for r, row in enumerate(rows, 1):
            text = row.cells[k]
            if text is None and top is not None:
                grid.cell(top, c).merge(grid.cell(r, c))  # merged with the cell above
                continue
            grid.cell(r, c).text = (text or "").translate(table or {})
            top = r
    for line in tail:
        word.add_paragraph(line.translate(table or {}))
    word.save(path)
    return path


@pytest.mark.parametrize("name", WORD_DOCUMENTS)
def test_full_width_word_table_is_the_same_plan(name: str, tmp_path: Path) -> None:
    document = next(d for d in DOCUMENTS if d.stem == name)
    (tmp_path / "ascii").mkdir()
    (tmp_path / "full").mkdir()  # one file name for both: a plan without a title takes it
    ascii_plan = load_plan(_word_table(document, tmp_path / "ascii" / "plan.docx", None), year=year_of(document))
    plan = load_plan(_word_table(document, tmp_path / "full" / "plan.docx", FULL_WIDTH), year=year_of(document))
    assert ascii_plan.tasks and all(t.responsibilities for t in ascii_plan.tasks)
    assert plan_differences(ascii_plan, plan) == []
    assert [t.requirement for t in plan.tasks] == [t.requirement.translate(FULL_WIDTH) for t in ascii_plan.tasks]


# ---------------------------------------------------------------- cells and lines

CELLS = ["牵头单位:市发改委;配合单位:市财政局、市人社局", "责任单位:各县(市、区)人民政府",
         "市政府办公室(牵头)、市大数据局", "装财处牵头,办公室配合,科监处技术保障。"]


@pytest.mark.parametrize("cell", CELLS, ids=[f"cell{i}" for i in range(len(CELLS))])
def test_full_width_cell_gives_the_same_responsibilities(cell: str) -> None:
    from workflow.importers.grammar import parse_cell

    ascii_parse, parse = parse_cell(cell), parse_cell(cell.translate(FULL_WIDTH))
    assert ascii_parse.responsibilities and ascii_parse.has_role_word
    assert (parse.responsibilities, parse.has_role_word, parse.clean) == (
        ascii_parse.responsibilities, ascii_parse.has_role_word, ascii_parse.clean)


# ---------------------------------------------------------------- the importers' patterns

PAIRS = {",": "，", ":": "：", ";": "；", "(": "（", ")": "）", "!": "！", "?": "？"}
TWIN = {**PAIRS, **{full: half for half, full in PAIRS.items()}}
_CLASS = re.compile(r"(?<!\\)\[((?:\\.|[^\]\\])*)\]")
_MATCHING = {"strip", "lstrip", "rstrip", "split", "rsplit", "endswith", "startswith"}
# draft.py writes the draft (YAML, a shell command); it matches no document.
_WRITERS = {"draft.py"}


def _one_sided(chars: str) -> list[str]:
    return sorted({c for c in chars if c in TWIN and TWIN[c] not in chars})


def _class_chars(body: str) -> str:
    """A regex character class's characters: \\uXXXX read, other escapes dropped."""
    body = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m[1], 16)), body)
    return re.sub(r"\\.", "", body)


def _docstrings(tree: ast.AST) -> set[int]:
    return {id(node.body[0].value) for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
            and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}


def _one_sided_marks(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
            for match in _CLASS.finditer(node.value):
                if _one_sided(_class_chars(match[1])):
                    found.append(f"{path.name}:{node.lineno} {match[0]}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _MATCHING:
            for arg in node.args:
                items = arg.elts if isinstance(arg, (ast.Tuple, ast.List, ast.Set)) else [arg]
                chars = "".join(i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str))
                if _one_sided(chars):
                    found.append(f"{path.name}:{node.lineno} .{node.func.attr}({chars!r})")
        elif isinstance(node, ast.Compare) and any(isinstance(op, (ast.In, ast.NotIn)) for op in node.ops):
            for item in node.comparators:
                if isinstance(item, ast.Constant) and isinstance(item.value, str) and _one_sided(item.value):
                    found.append(f"{path.name}:{node.lineno} in {item.value!r}")
    return found


def test_importer_patterns_accept_both_forms_of_each_mark() -> None:
    files = [p for p in sorted((ROOT / "workflow" / "importers").glob("*.py")) if p.name not in _WRITERS]
    assert len(files) > 10
    found = [hit for path in files for hit in _one_sided_marks(path)]
    assert found == [], "a mark without its full-width (or ASCII) twin:\n" + "\n".join(found)


def test_the_pattern_check_sees_a_one_sided_mark(tmp_path: Path) -> None:
    path = tmp_path / "sample.py"
    path.write_text('import re\nA = re.compile(r"^(?P<role>[^::]{1,8})[:：](?P<d>.+)$")\n'
                    'B = "x".strip(" ,;")\nC = "x" in ",，;"\nD = re.compile("[,\\uff0c]")\n', encoding="utf-8")
    assert sorted(hit.split(" ")[0] for hit in _one_sided_marks(path)) == ["sample.py:2", "sample.py:3", "sample.py:4"]
