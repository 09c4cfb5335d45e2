"""Plans written as paragraphs, not as a table.

Many offices publish the task division as numbered paragraphs, each naming its
departments in one of two ways:

- an inline parenthesis closing the task: `1.…公开。(牵头单位:市审批局;责任单位:市直各部门)`,
  `(一)…(市交通委负责落实)`, several tasks in one paragraph each closed by its own;
- lines of their own after the task: `牵头单位:区发改局` / `责任单位:…` / `主要协作单位:…`.

Numbered lines without departments are headings (`一、…`, a short `(一)…`) or the notice's
own points before the plan; a document-level rule (`以下均需各县市区落实,不再逐一列出`)
adds its departments to every later task. What cannot be read is said in warnings and
doubts, never guessed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from workflow.importers import grammar
from workflow.importers.hanzi import to_simplified
from workflow.plans.model import Responsibility

_MARKER_RE = re.compile(
    r"^\s*(?:(?P<arabic>\d{1,3})\s*[.、．](?!\d)|[(（](?P<paren>[一二三四五六七八九十]{1,3})[)）]|"
    r"(?P<chinese>[一二三四五六七八九十]{1,3})\s*[、.．])\s*")
_LABEL_RE = re.compile(
    r"^\s*(?P<label>(?:主要|牵头)?(?:牵头|责任|配合|协作|协办|参与|主责|承办|落实)(?:单位|部门|处室|科室|股室|领导))"
    r"\s*[:：]\s*(?P<depts>.*)$")
_RULE_RE = re.compile(r"以下(?:各项|所有)?(?:任务|工作)?(?:均需|均由|均要|都需|需)(?P<depts>[^,，。;；]+?)"
                      r"(?:负责|参照)?落实")
_CHAPTER_RULE_RE = re.compile(r"^(?P<depts>.+?)(?P<role>牵头|负责|主办)的?(?:工作|任务|事项)?(?:[(（][^()（）]*[)）])?$")
MAX_HEADING = 40


@dataclass
class ParaTask:
    seq: int | None
    requirement: str
    responsibilities: list[Responsibility]
    chapter: str | None = None
    section: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class ParaResult:
    tasks: list[ParaTask]
    warnings: list[str] = field(default_factory=list)
    start: int = 0  # index of the first line that belongs to a task (the preamble is before it)


def label_role(label: str) -> str:
    if "牵头" in label:
        return "lead"
    if any(w in label for w in ("配合", "协作", "协办", "参与")):
        return "cooperate"
    return "implement"


_FIRST_LEADS_RE = re.compile(r"[。;；,，]?\s*(?:排?列第一位(?:的|者)?(?:单位|部门)?为牵头(?:单位|部门)?|"
                             r"排名第一的为牵头(?:单位|部门)?)[^。;；]*")


def responsibility_groups(text: str, first_leads: bool = False) -> list[tuple[int, int, list[Responsibility], list[str]]]:
    """(start, end, responsibilities, warnings) of each top-level bracket group in `text`
    that reads as a responsibility (a role word or a 'X单位:' label inside; with
    `first_leads`, a bare list of names, its first name leading)."""
    found = []
    depth, start = 0, -1
    for i, ch in enumerate(text):
        if ch in "(（〔[【":
            if depth == 0:
                start = i
            depth += 1
        elif ch in ")）〕]】" and depth:
            depth -= 1
            if depth == 0:
                inner = text[start + 1:i]
                parsed = _parse_inline(inner, first_leads)
                if parsed:
                    found.append((start, i + 1, parsed[0], parsed[1]))
    return found


def has_first_leads_rule(text: str) -> bool:
    """'列第一位者为牵头部门,下同': in every later list of names the first one leads."""
    return bool(_FIRST_LEADS_RE.search(to_simplified(text)))


def _parse_inline(inner: str, first_leads: bool = False) -> tuple[list[Responsibility], list[str]] | None:
    if len(inner) > 300 or len(inner) < 3:
        return None
    plain = to_simplified(inner)
    if first_leads or has_first_leads_rule(plain):
        names = grammar.parse_cell(_FIRST_LEADS_RE.sub("", plain).strip(" 。;；,，"))
        if names.responsibilities and not names.has_role_word and names.clean and not names.note:
            first, *rest = names.responsibilities
            return ([Responsibility(first.department, "lead", first.group),
                     *(Responsibility(r.department, "cooperate", r.group) for r in rest)], names.warnings)
    parsed = grammar.parse_cell(inner)
    if not parsed.responsibilities or not parsed.has_role_word:
        return None
    if parsed.note and len(parsed.note) * 2 > len(inner):
        return None
    return parsed.responsibilities, parsed.warnings


def _label_line(line: str) -> tuple[list[Responsibility], list[str]] | None:
    match = _LABEL_RE.match(line)
    if not match:
        return None
    parsed = grammar.parse_cell(match["depts"].strip().rstrip("。;；"), label_role(to_simplified(match["label"])))
    return parsed.responsibilities, parsed.warnings


@dataclass
class _Item:
    marker: str  # 'arabic', 'paren', 'chinese' or ''
    number: int | None
    text: str
    line: int
    head: str = ""  # the marker line itself
    labels: list[Responsibility] = field(default_factory=list)
    label_warnings: list[str] = field(default_factory=list)
    unreadable: str | None = None  # a label line whose departments could not be read


def parse_paragraphs(lines: list[str]) -> ParaResult | None:
    """Tasks of a paragraph-form plan, or None when no paragraph names its departments."""
    items: list[_Item] = []
    current: _Item | None = None
    last_heading: tuple[str, int] | None = None
    loose: tuple[str, int] | None = None  # an unnumbered line outside any item: a task if labels follow
    for index, line in enumerate(lines):
        label = _label_line(line)
        if label is not None:
            if current is None and (last_heading or loose):
                text, at = last_heading or loose  # type: ignore[misc]
                current = _Item("heading" if last_heading else "", None, text, at)
                items.append(current)
                last_heading = loose = None
            if current is not None:
                current.labels.extend(r for r in label[0] if r not in current.labels)
                current.label_warnings.extend(label[1])
                if not label[0]:
                    current.unreadable = line
            continue
        match = _MARKER_RE.match(line)
        if not match and _RULE_RE.search(to_simplified(line)):
            items.append(_Item("rule", None, line, index))  # '以下均需各县市区落实,不再逐一列出'
            current = None
            continue
        if match:
            kind = next(k for k in ("arabic", "paren", "chinese") if match[k])
            number = int(match["arabic"]) if match["arabic"] else None
            if current is not None and current.labels:
                current = None
            current = _Item(kind, number, line, index, head=line)
            items.append(current)
            last_heading = (line, index) if _is_heading(line) else None
            loose = None
            continue
        if current is not None and not current.labels and not current.unreadable:
            current.text += line
            last_heading = None
        else:
            current, loose, last_heading = None, (line, index), None  # after a task's label lines: the next task, or the page's end
    return _tasks(items, lines)


def _document_rule(text: str, result: ParaResult) -> list[Responsibility] | None:
    """The departments of a rule for all later tasks ('以下均需各县市区落实,不再逐一列出'), said in a warning."""
    match = _RULE_RE.search(to_simplified(text))
    if not match:
        return None
    parsed = grammar.parse_cell(match["depts"])
    if not parsed.responsibilities:
        return None
    result.warnings.append(f"文件写明“{_short(match[0])}”：其后各项任务都加上了"
                           f"{'、'.join(r.department for r in parsed.responsibilities)}（落实），请核对")
    return parsed.responsibilities


def _chapter_rule(heading: str) -> list[Responsibility]:
    """'县示范区管委会牵头工作(8项)': the unit that leads every task of the chapter."""
    match = _CHAPTER_RULE_RE.match(to_simplified(heading))
    if not match:
        return []
    parsed = grammar.parse_cell(match["depts"], "lead" if match["role"] in ("牵头", "主办") else "implement")
    return parsed.responsibilities if parsed.clean and not parsed.note else []


def _is_heading(line: str) -> bool:
    text = _MARKER_RE.sub("", line, count=1)
    return len(text) <= MAX_HEADING and not responsibility_groups(line) and "。" not in text.rstrip("。")


def _tasks(items: list[_Item], lines: list[str]) -> ParaResult | None:
    result = ParaResult(tasks=[])
    chapter: str | None = None
    section: str | None = None
    rule: list[Responsibility] = []
    first_leads = announced = False
    chapter_rule: list[Responsibility] = []
    last_by_rule: ParaTask | None = None
    pending_untasked: list[_Item] = []
    for item in items:
        text = item.text
        if item.head and item.text != item.head and _is_heading(item.head) and item.marker in ("chinese", "paren"):
            # '一、推进落实“五公开”' on its own line, the task's paragraph under it
            if item.marker == "chinese":
                chapter, section = _strip_marker(item.head).rstrip("。"), None
            else:
                section = _strip_marker(item.head).rstrip("。")
            text = item.text[len(item.head):]
            item = _Item("", None, text, item.line, labels=item.labels, label_warnings=item.label_warnings,
                         unreadable=item.unreadable)
        first_leads = first_leads or has_first_leads_rule(text)
        groups = responsibility_groups(text, first_leads) if not (item.labels or item.unreadable) else []
        if item.unreadable and not item.labels:
            pending_untasked.append(item)
            continue
        if not groups and not item.labels:
            rule = _document_rule(text, result) or rule
            if item.marker == "rule":
                continue
            if item.marker == "chinese" and _is_heading(text):
                chapter, section = _strip_marker(text).rstrip("。"), None
                chapter_rule = _chapter_rule(chapter)
                if chapter_rule:
                    result.warnings.append(f"“{chapter}”：其下各项任务都由{'、'.join(r.department for r in chapter_rule)}"
                                           f"{'牵头' if chapter_rule[0].role == 'lead' else '负责'}")
            elif item.marker == "paren" and _is_heading(text):
                section = _strip_marker(text).rstrip("。")
            elif chapter_rule and item.marker == "arabic":
                if not result.tasks:
                    result.start = item.line
                _add(result, item, _strip_marker(text), [], [], chapter, section, chapter_rule)
                last_by_rule = result.tasks[-1]
            elif result.tasks:
                pending_untasked.append(item)
            continue
        for untasked in pending_untasked:
            result.warnings.append(f"“{_short(_strip_marker(untasked.text))}”没有写明责任单位，未作为任务导入，请核对")
        pending_untasked = []
        if not result.tasks:
            result.start = item.line
        if item.unreadable:
            result.warnings.append(f"“{_short(item.unreadable)}”中有无法识别的单位，已忽略，请核对")
        if item.labels:
            requirement = _strip_marker(text).strip()
            _add(result, item, requirement, item.labels, item.label_warnings, chapter, section, rule)
            continue
        if first_leads and not announced:
            announced = True
            result.warnings.append("文件规定“列第一位者为牵头部门”：各项任务所列第一个单位为牵头，其余为配合")
        position = 0
        body = _strip_marker(text)
        offset = len(text) - len(body)
        for number, (start, end, responsibilities, warnings) in enumerate(groups):
            piece = text[max(position, offset):start].strip(" ,，;；")
            if number == 0 and len(groups) > 1:
                head, sep, rest = piece.partition("。")
                if sep and rest.strip() and len(head) <= MAX_HEADING:
                    section, piece = head, rest.strip()
            if piece:
                _add(result, item if number == 0 else None, piece, responsibilities, warnings, chapter, section, rule)
            position = end
        tail = text[position:].strip(" 。.,，;；")
        new_rule = _document_rule(tail, result) if tail else None
        if new_rule:
            rule = new_rule
        elif tail:
            pending_untasked.append(_Item(item.marker, None, tail, item.line))
    if last_by_rule is not None and result.tasks[-1] is last_by_rule and not last_by_rule.requirement.endswith(
            ("。", ";", "；", ".", "!", "！", "?", "？")):
        result.tasks.pop()  # the page stops inside the last task
        result.warnings.append(f"最后一项“{_short(last_by_rule.requirement)}”不完整，已舍弃")
    if not result.tasks:
        return None
    for untasked in pending_untasked:
        message = f"最后一项“{_short(_strip_marker(untasked.text))}”不完整（没有责任单位），已舍弃"
        result.warnings.append(message)
    return result


def _add(result: ParaResult, item: _Item | None, requirement: str, responsibilities: list[Responsibility],
         warnings: list[str], chapter: str | None, section: str | None, rule: list[Responsibility]) -> None:
    last = result.tasks[-1].seq if result.tasks else 0
    seq = item.number if item and item.marker == "arabic" and item.number and item.number > (last or 0) else (last or 0) + 1
    found = [Responsibility(r.department, r.role, r.group) for r in responsibilities]
    found += [Responsibility(r.department, r.role, r.group) for r in rule if r not in found]
    result.tasks.append(ParaTask(seq, requirement, found, chapter, section, list(warnings)))


def _strip_marker(text: str) -> str:
    return _MARKER_RE.sub("", text, count=1).strip()


def _short(text: str, limit: int = 30) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"
