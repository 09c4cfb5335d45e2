"""Department groups named in plans (各业务处室, 局属各单位, 各相关业务处室) and what
publishing a plan would need settled. Light on imports: `plan import --dry-run` uses it
without loading the database layer."""
from __future__ import annotations


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
                    warnings.append(f"第 {task.seq} 项“{r.department}”需要政务公开办指定具体处室(下发时用 --resolve)")
            elif departments is not None and _find(r.department, departments) is None:
                from workflow.directory import closest_names

                close = closest_names(r.department, departments)
                hint = f"(相近:{'、'.join(close)})" if close else ""
                warnings.append(f"第 {task.seq} 项的“{r.department}”不在处室名录中{hint}")
    return warnings


def _find(name: str, departments: list):
    from workflow.directory import find_department

    return find_department(None, name, departments=departments)

