"""Who may see what: the one read-scope rule (roles from states/access.py) and the
refusal sentences of the office's own commands. Every read service asks these."""
from __future__ import annotations

from typing import Any

import states
from workflow.errors import NotFound, NotPermitted

Visible = frozenset[int] | None  # department ids a reader may see; None means every one

# Refusals for the commands states/access.py reserves (each follows the user's name).
DIRECTORY_ADMIN = "无权修改处室名录：只有管理员可以添加或导入处室。"
PLAN_OFFICE = "无权导入计划：只有审核人（政务公开办）或管理员可以导入。"
ARCHIVE_PLAN = "无权归档计划：只有审核人（政务公开办）或管理员可以归档。"
ADD_USER = "无权添加用户：只有管理员可以添加用户。"
REVOKE_USER = "无权停用用户：只有管理员可以停用用户。"
SET_USER = "无权修改用户：只有管理员可以修改用户的角色、处室或邮箱。"
EXPORT_EVENTS = "无权导出全部办理记录：只有审核人、督查或管理员可以导出。"


def visible_departments(viewer: Any) -> Visible:
    """What `viewer` may read (states.reads_all decides); None for a trusted library caller."""
    if viewer is None or states.reads_all(viewer.roles):
        return None
    return frozenset() if viewer.department_id is None else frozenset({viewer.department_id})


def check_visible(viewer: Any, visible: Visible, department_id: int, what: str) -> None:
    """Asking for another department by name is refused plainly, not answered with nothing."""
    if visible is not None and department_id not in visible:
        raise NotPermitted(f"{viewer.name}只能查看本处室的{what}；审核人、督查和管理员可以查看所有处室。")


def item_not_found(assignment_id: int) -> NotFound:
    """What a missing assignment says, and (the same words) one the reader may not see."""
    return NotFound(f"事项 {assignment_id} 不存在；可用 duban task list 查看事项编号。")


def require_item(visible: Visible, assignment_id: int, department_id: int | None) -> None:
    """The one rule for a single assignment, read or acted on: it exists (`department_id` is
    None when no row was found) and lies in `visible` (visible_departments of the reader or
    the actor); otherwise it "does not exist", in exactly the same words. Every read and
    fire() ask this before looking at the item's state, so no refusal tells another
    department anything about it."""
    if department_id is None or (visible is not None and department_id not in visible):
        raise item_not_found(assignment_id)
