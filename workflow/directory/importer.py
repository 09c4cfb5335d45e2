"""Department directory files: who the plan's department names refer to.

A directory is a CSV (header name,aliases,email,kind,head; aliases separated by ; or 、)
or a YAML list of mappings with the same keys. Names are normalised like the plan
importer's (simplified characters, one bracket form), so '办公室（宣传组）' in a plan
and '办公室(宣传组)' in a directory are the same department.

Plans use short and long forms of the same name ('文件审查处' for '规范性文件审查处');
`alias_match` resolves a name that is contained in exactly one directory name (or the
reverse), and `closest_names` gives the suggestions for an error message otherwise.
"""
from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from workflow.errors import BadInput
from workflow.importers import read_limited
from workflow.importers.decode import decode_bytes, refuse_nul
from workflow.importers.grammar import TRAILING_SUBUNIT_RE, is_group_name, normalize_name

KINDS: dict[str, str] = {"office": "综合办公室", "business": "业务处室", "unit": "局属单位"}
_KIND_WORDS = {"综合": "office", "办公室": "office", "综合办公室": "office", "业务": "business",
               "业务处室": "business", "处室": "business", "单位": "unit", "局属单位": "unit",
               "直属单位": "unit", "下属单位": "unit"}
FIELDS = ("name", "aliases", "email", "kind", "head")
_EMAIL_RE = re.compile(r"^[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+$")
MIN_CONTAINED = 3  # a shorter name must have this many characters to match by containment


@dataclass
class DeptRecord:
    """One department as the directory file describes it."""

    name: str
    aliases: list[str] = field(default_factory=list)
    email: str | None = None
    kind: str = "business"  # office | business | unit
    head: str | None = None

    def names(self) -> list[str]:
        return [self.name, *self.aliases]


def parse_directory(path: Path) -> list[DeptRecord]:
    """Read a CSV or YAML directory file (detected by content) into validated records."""
    path = Path(path)
    text = decode_bytes(read_limited(path, what="请指定处室名录文件（CSV 或 YAML）"), path.name).lstrip("\ufeff")
    refuse_nul(text, path.name)
    if not text.strip():
        raise BadInput(f"{path.name} 是空文件：处室名录应包含 name,aliases,email,kind,head 表头和至少一个处室。")
    first = text.strip().splitlines()[0]
    raw = _csv_rows(text, path.name) if _is_csv_header(first) else _yaml_rows(text, path.name)
    records = [_record(item, index, path.name) for index, item in enumerate(raw, 1)]
    if not records:
        raise BadInput(f"{path.name} 中没有处室：请在表头下方每行填写一个处室。")
    _check_unique(records, path.name)
    return records


def _is_csv_header(line: str) -> bool:
    cells = [c.strip().lower().lstrip("\ufeff") for c in line.split(",")]
    return "name" in cells and len(cells) >= 2


def _csv_rows(text: str, source: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text))
    fields = [(f or "").strip().lower() for f in reader.fieldnames or []]
    unknown = [f for f in fields if f and f not in FIELDS]
    if unknown:
        raise BadInput(f"{source} 的表头含未知列 {'、'.join(unknown)}：只允许 name,aliases,email,kind,head。")
    rows = []
    for row in reader:
        clean = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k is not None}
        if any(clean.values()):
            rows.append(clean)
    return rows


def _yaml_rows(text: str, source: str) -> list[Any]:
    import yaml

    from workflow.importers.yaml_load import load_yaml

    try:
        data = load_yaml(text)
    except yaml.YAMLError:
        raise BadInput(f"{source} 既不是 CSV（首行应为 name,aliases,email,kind,head）也不是有效的 YAML 列表。") from None
    if isinstance(data, dict) and isinstance(data.get("departments"), list):
        data = data["departments"]
    if not isinstance(data, list):
        raise BadInput(f"{source} 格式不对：应为 CSV（表头 name,aliases,email,kind,head）或 YAML 列表（每项含 name、email 等）。")
    return data


def _record(item: Any, index: int, source: str) -> DeptRecord:
    where = f"{source} 第 {index} 个处室"
    if not isinstance(item, dict):
        raise BadInput(f"{where}应写成映射（name: …， email: …），实际为 {type(item).__name__}。")
    unknown = sorted(str(k) for k in item if str(k).lower() not in FIELDS)
    if unknown:
        raise BadInput(f"{where}含未知字段 {'、'.join(unknown)}：只允许 name、aliases、email、kind、head。")
    name = normalize_name(str(item.get("name") or ""))
    if not name:
        raise BadInput(f"{where}缺少 name（处室名称）。")
    return DeptRecord(
        name=name,
        aliases=[a for a in (normalize_name(x) for x in _aliases(item.get("aliases"), where)) if a and a != name],
        email=_email(item.get("email"), f"{source} 中“{name}”"),
        kind=_kind(item.get("kind"), f"{source} 中“{name}”"),
        head=_head(item.get("head"), f"{source} 中“{name}”"),
    )


_DATE_LIKE_RE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}([Tt ].*)?")


def _head(value: Any, where: str) -> str | None:
    """The head's name: text, one line, not a date or a number (a value pasted into the wrong column)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip() if isinstance(value, (str, int, float)) and not isinstance(value, bool) else None
    if text is None or not isinstance(value, str) or _DATE_LIKE_RE.fullmatch(text):
        shown = (text or type(value).__name__)[:40]
        raise BadInput(f"{where}的 head“{shown}”不是负责人姓名：head 应填写处室负责人的姓名。")
    if len(text) > 100 or any(ch in text for ch in "\x00\r\n\t"):
        raise BadInput(f"{where}的 head 无效：应为不超过 100 字的一行文字（负责人姓名）。")
    return text


def _aliases(value: Any, where: str) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [a.strip() for a in re.split(r"[;；、,，]", value) if a.strip()]
    if isinstance(value, list) and all(isinstance(a, str) for a in value):
        return [a.strip() for a in value if a.strip()]
    raise BadInput(f"{where}的 aliases 应为文字列表，或用“；”“、”分隔的文字。")


def _email(value: Any, where: str) -> str | None:
    if value is None or str(value).strip() == "":
        return None
    email = str(value).strip()
    if not _EMAIL_RE.match(email):
        raise BadInput(f"{where}的 email“{email}”不是有效的邮箱地址，应形如 bgs@example.gov.cn。")
    return email


def _kind(value: Any, where: str) -> str:
    if value is None or str(value).strip() == "":
        return "business"
    kind = str(value).strip()
    kind = _KIND_WORDS.get(kind, kind.lower())
    if kind not in KINDS:
        raise BadInput(f"{where}的 kind“{value}”无效，应为 office（综合办公室）、business（业务处室）或 unit（局属单位）。")
    return kind


def _check_unique(records: list[DeptRecord], source: str) -> None:
    """Every name and alias must identify one department."""
    owner: dict[str, str] = {}
    for record in records:
        for name in record.names():
            if name in owner and owner[name] != record.name:
                raise BadInput(f"{source} 中“{name}”同时属于“{owner[name]}”和“{record.name}”：每个名称或别名只能对应一个处室。")
            if name in owner and name == record.name:
                raise BadInput(f"{source} 中处室“{name}”重复出现：每个处室只写一行。")
            owner[name] = record.name


def closest_names(name: str, known: list[str], n: int = 3) -> list[str]:
    """Suggestions for an unknown name: names containing it (or contained in it) first, then similar ones."""
    target = normalize_name(name)
    contained = [k for k in known if _contains(target, normalize_name(k))]
    similar = difflib.get_close_matches(target, [normalize_name(k) for k in known], n=n, cutoff=0.5)
    by_normal = {normalize_name(k): k for k in known}
    ordered = list(dict.fromkeys([*contained, *(by_normal[s] for s in similar)]))
    return ordered[:n]


def alias_match(name: str, departments: Iterable[DeptRecord]) -> DeptRecord | None:
    """The one department a plan's name refers to, or None if none or several could.

    Tried in order: exact name, exact alias, the name without a trailing '(…)' sub-unit
    ('办公室(宣传组)' → 办公室), then containment ('文件审查处' ↔ '规范性文件审查处')
    when exactly one department matches. Group names ('各业务处室') never match here.
    """
    target = normalize_name(name)
    departments = list(departments)
    if not target or is_group_name(target):
        return None
    for candidates in (
        [d for d in departments if d.name == target],
        [d for d in departments if target in d.aliases],
        _without_subunit(target, departments),
        [d for d in departments if any(_contains(target, n) for n in d.names())],
    ):
        if len(candidates) == 1:
            return candidates[0]
        if len(candidates) > 1:
            return None
    return None


def _without_subunit(target: str, departments: list[DeptRecord]) -> list[DeptRecord]:
    base = TRAILING_SUBUNIT_RE.sub("", target)
    if base == target:
        return []
    return [d for d in departments if base in d.names()]


def _contains(a: str, b: str) -> bool:
    """One name contains the other, and the shorter is long enough to mean something."""
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    return len(short) >= MIN_CONTAINED and short != long and short in long
