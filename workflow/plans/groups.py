"""Department groups named in plans (各业务处室, 局属各单位, 各相关业务处室) and what
publishing a plan would need settled. Light on imports: `plan import --dry-run` uses it
without loading the database layer."""
from __future__ import annotations

import re

# Compiled on first use (re caches them): the dry run imports this module but never asks.
_SEPARATORS = r"[\s、,，;；]+"
_RANGE = r"^(\d+)[-—–~～至到](\d+)$"
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def group_kinds(name: str) -> tuple[str, ...] | None:
    """The department kinds a group name covers, or None if the office must choose."""
    if "相关" in name:
        return None
    if "局属" in name or name.endswith("各单位"):
        return ("unit",)
    if "业务处室" in name:
        return ("business",)
    if "各处室" in name:
        return ("office", "business")
    return None


def review_warnings(plan, departments: list | None) -> list[str]:
    """What publishing this plan would need settled first, for `plan import --dry-run`.

    `plan` is a canonical workflow.plan.Plan; with no directory (None), only the
    "relevant" groups are checked.
    """
    warnings = []
    for task in plan.tasks:
        for r in task.responsibilities:
            if r.group:
                if group_kinds(r.department) is None:
                    warnings.append(f"第 {task.seq} 项“{r.department}”需要政务公开办指定具体处室"
                                    f"（下发时在终端逐项选择，或用 --resolve 文件）")
            elif departments is not None and _find(r.department, departments) is None:
                from workflow.directory.names import closest_names

                close = closest_names(r.department, departments)
                hint = f"（相近：{'、'.join(close)}）" if close else ""
                warnings.append(f"第 {task.seq} 项的“{r.department}”不在处室名录中{hint}")
    return warnings


def _find(name: str, departments: list):
    from workflow.directory.names import match_department

    return match_department(name, departments)


def parse_selection(answer: str, departments: list) -> tuple[list, list[str]]:
    """The departments an answer such as `3 5、普法处` or `3-6` names, and what it could not.

    Numbers refer to the numbered directory shown (1-based), anything else is a name or
    alias. Returns (departments in the order given, without repeats; tokens not understood).
    """
    from workflow.directory.names import match_department

    chosen: list = []
    bad: list[str] = []
    for token in (t for t in re.split(_SEPARATORS, answer.strip()) if t):
        found = _numbered(token, departments)
        if found is None:
            dept = match_department(token, departments)
            found = [dept] if dept is not None else None
        if found is None:
            bad.append(token)
            continue
        chosen.extend(d for d in found if all(d.name != c.name for c in chosen))
    return chosen, bad


def _numbered(token: str, departments: list) -> list | None:
    """`5` or `3-6` as positions in the numbered list, or None if not (valid) numbers."""
    token = token.translate(_FULLWIDTH_DIGITS)
    span = re.match(_RANGE, token)
    if span:
        first, last = int(span[1]), int(span[2])
    elif token.isascii() and token.isdigit():
        first = last = int(token)
    else:
        return None
    if not 1 <= first <= last <= len(departments):
        return None
    return departments[first - 1:last]
