"""The department directory and the users: adding, listing, and resolving names.

Plans name departments as people write them (简称, 全称, 别名); publishing needs the
one department each name means, and a clear error listing every name it cannot find.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlmodel import Session, select

import states
from db.models import Department, User
from workflow.clock import Clock
from workflow.directory.names import closest_names, match_department, normalise  # noqa: F401 (re-exported)
from workflow.errors import BadInput, NotFound, Refused
from workflow.names import clean_name, same

KINDS: dict[str, str] = {"office": "综合/办公室", "business": "业务处室", "unit": "局属单位"}
EMAIL_RE = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")
MAX_NAME = 100


def check_name(name: str, what: str) -> str:
    name = (name or "").strip()
    if not name:
        raise BadInput(f"{what}不能为空。")
    if len(name) > MAX_NAME or any(ch in name for ch in "\x00\r\n\t"):
        shown = "".join(ch if ch.isprintable() else "�" for ch in name[:40])  # never echo a control character
        raise BadInput(f"{what}“{shown}…”无效：应为不超过 {MAX_NAME} 字的一行文字。")
    return clean_name(name, what)


def check_email(email: str) -> str:
    email = (email or "").strip()
    if not EMAIL_RE.match(email) or len(email) > 320:
        raise BadInput(f"邮箱“{email[:80]}”格式无效，应形如 name@example.gov.cn。")
    return email


def add_department(session: Session, name: str, email: str | None, aliases: list[str],
                   kind: str = "business", head: str | None = None) -> Department:
    name = check_name(name, "处室名称")
    if kind not in KINDS:
        raise BadInput(f"处室类别“{kind}”无效，应为 office、business 或 unit。")
    aliases = [check_name(a, "别名") for a in aliases]
    for n in [name, *aliases]:
        found = find_department(session, n, fuzzy=False)
        if found:
            if found.name != n and n not in (found.aliases or []):
                raise Refused(f"处室名称或别名“{n}”与已有的“{found.name}”相同；可用 duban dept list 查看。")
            raise Refused(f"处室名称或别名“{n}”已被使用；可用 duban dept list 查看。")
    dept = Department(name=name, email=check_email(email) if email else None, aliases=aliases,
                      kind=kind, head=head)
    session.add(dept)
    session.commit()
    return dept


def list_departments(session: Session) -> list[Department]:
    return list(session.exec(select(Department).order_by(Department.id)).all())


def find_department(session: Session | None, name: str, fuzzy: bool = True,
                    departments: list[Department] | None = None) -> Department | None:
    """The department a name means (see directory_names.match_department); reads the
    directory from `session` unless `departments` is given."""
    departments = departments if departments is not None else list_departments(session)
    return match_department(name, departments, fuzzy)


def _check_roles(roles: list[str]) -> list[str]:
    bad = [r for r in roles if r not in states.ROLES]
    if bad or not roles:
        raise BadInput(f"角色“{'、'.join(bad) or '(未指定)'}”无效，应为：{'、'.join(states.ROLES)}。")
    return sorted(set(roles))


def _department_id(session: Session, department: str | None, roles: list[str]) -> int | None:
    if department:
        dept = find_department(session, department)
        if dept is None:
            raise NotFound(f"处室“{department}”不存在；可用 duban dept list 查看。")
        return dept.id
    if set(roles) & {"staff", "head"}:
        raise BadInput("处室人员（staff/head）必须用 --dept 指定所属处室。")
    return None


def add_user(session: Session, name: str, email: str, roles: list[str], department: str | None,
             clock: Clock) -> User:
    name = check_name(name, "用户名")
    email = check_email(email)
    _check_roles(roles)
    dept_id = _department_id(session, department, roles)
    if session.exec(select(User).where(User.name == name)).first():
        raise Refused(f"用户“{name}”已存在。")
    twin = next((u.name for u in session.exec(select(User)).all() if same(u.name, name)), None)
    if twin is not None:  # a name stored before names were normalised, or differing in case
        raise Refused(f"用户名“{name}”与已有的“{twin}”相同；请换一个名字。")
    user = User(name=name, email=email, roles=sorted(set(roles)), department_id=dept_id,
                created_at=clock.now())
    session.add(user)
    session.commit()
    return user


@dataclass
class UserChange:
    user: User
    changed: dict[str, tuple[str, str]]  # field label → (before, after), as shown to people


def set_user(session: Session, user: User, roles: list[str] | None, department: str | None,
             email: str | None, no_department: bool = False) -> UserChange:
    """Change a user's roles, department or email (the caller checked the admin role).

    Roles given replace the old ones; a staff member or head keeps needing a department.
    Nothing else of the user changes: their token, their history and their delegations stay.
    """
    names = {d.id: d.name for d in list_departments(session)}
    before = ("、".join(user.roles), names.get(user.department_id) or "无", user.email)
    new_roles = _check_roles(roles) if roles is not None else list(user.roles)
    if no_department:
        dept_id = _department_id(session, None, new_roles)
    elif department is not None:
        dept_id = _department_id(session, department, new_roles)
    else:
        dept_id = user.department_id if user.department_id is not None else _department_id(session, None, new_roles)
    user.roles = new_roles
    user.department_id = dept_id
    if email is not None:
        user.email = check_email(email)
    after = ("、".join(user.roles), names.get(user.department_id) or "无", user.email)
    changed = {label: (b, a) for label, b, a in zip(("角色", "处室", "邮箱"), before, after) if b != a}
    session.add(user)
    session.commit()
    return UserChange(user, changed)


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(User.id)).all())


@dataclass
class UserView:
    id: int
    name: str
    email: str
    department: str | None
    roles: list[str]
    active: bool


def user_views(session: Session) -> list[UserView]:
    depts = {d.id: d.name for d in list_departments(session)}
    return [UserView(u.id, u.name, u.email, depts.get(u.department_id), u.roles, u.active)
            for u in list_users(session)]


def _check_names_free(departments, touched: set[str]) -> None:
    """Refuse, as add_department does, a name or alias that another department already uses
    (checked on the directory as the import leaves it, for the departments it touched)."""
    owner: dict[str, str] = {}
    for dept in sorted(departments, key=lambda d: d.name in touched):  # untouched first
        for n in dict.fromkeys([dept.name, *(dept.aliases or [])]):
            other = owner.setdefault(n, dept.name)
            if other != dept.name and (dept.name in touched or other in touched):
                raise Refused(f"处室名称或别名“{n}”已被处室“{other}”使用，不能再用于处室“{dept.name}”；可用 duban dept list 查看。")


def upsert_departments(session: Session, records: list) -> tuple[list[str], list[str]]:
    """Create or update departments from directory records, all in one transaction.

    Each record has name, aliases, email, kind and head (see workflow.directory_import).
    """
    created, updated = [], []
    try:
        existing = {d.name: d for d in list_departments(session)}
        for rec in records:
            name = check_name(rec.name, "处室名称")
            kind = rec.kind or "business"
            if kind not in KINDS:
                raise BadInput(f"处室“{name}”的类别“{kind}”无效，应为 office、business 或 unit。")
            email = check_email(rec.email) if rec.email else None
            dept = existing.get(name)
            if dept is None:
                dept = Department(name=name)
                created.append(name)
                existing[name] = dept
            else:
                updated.append(name)
            dept.aliases = [check_name(a, "别名") for a in rec.aliases]
            dept.email, dept.kind, dept.head = email, kind, rec.head
            session.add(dept)
        _check_names_free(existing.values(), {check_name(r.name, "处室名称") for r in records})
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return created, updated


def delegation_problem(principal: User, delegate: User, departments: dict[int, str] | None = None) -> str | None:
    """Why `delegate` may not act for `principal`, or None: only within one department.

    A delegate acts for the principal on the principal's department's items. Someone of
    another department cannot see those items (read scope is one rule: your department's
    items, or all for reviewers and supervisors), so a cross-department delegation would
    let them change what they are told does not exist.
    """
    if delegate.department_id == principal.department_id:
        return None
    names = departments or {}
    where = names.get(delegate.department_id) or ("其他处室" if delegate.department_id else "不属于任何处室")
    return (f"代办只能在本处室内授权：{delegate.name}（{where}）与{principal.name}不在同一处室，"
            f"看不到{principal.name}所在处室的事项；请授权给同处室的同事。")


def add_delegation(session: Session, principal: User, delegate_name: str, starts_on, ends_on,
                   clock: Clock):
    """Let `delegate_name` act for `principal` (代办) from starts_on to ends_on inclusive."""
    from db.models import Delegation

    delegate = session.exec(select(User).where(User.name == delegate_name)).first()
    if delegate is None or not delegate.active:
        raise NotFound(f"用户“{delegate_name}”不存在或已停用；可用 duban user list 查看。")
    if delegate.id == principal.id:
        raise BadInput("不能授权给自己。")
    problem = delegation_problem(principal, delegate, {d.id: d.name for d in list_departments(session)})
    if problem:
        raise Refused(problem)
    if ends_on < starts_on:
        raise BadInput(f"代办结束日期 {ends_on} 早于开始日期 {starts_on}。")
    if (ends_on - starts_on).days > 366:
        raise BadInput("代办期限最长一年。")
    row = Delegation(from_user_id=principal.id, to_user_id=delegate.id, starts_on=starts_on,
                     ends_on=ends_on, created_at=clock.now())
    session.add(row)
    session.commit()
    return row, delegate


@dataclass
class DelegationView:
    id: int
    principal: str  # who is represented (本人)
    delegate: str  # who acts (代办人)
    starts_on: object
    ends_on: object
    status: str  # 生效中 | 未开始 | 已结束 | 已撤销
    revoked_at: object = None


def delegation_status(row, today) -> str:
    if row.revoked_at is not None:
        return "已撤销"
    if today < row.starts_on:
        return "未开始"
    return "已结束" if today > row.ends_on else "生效中"


def list_delegations(session: Session, today, user_id: int | None = None) -> list[DelegationView]:
    """Delegations given or received by `user_id` (None: everyone's), newest first."""
    from sqlalchemy import or_

    from db.models import Delegation

    query = select(Delegation).order_by(Delegation.id.desc())
    if user_id is not None:
        query = query.where(or_(Delegation.from_user_id == user_id, Delegation.to_user_id == user_id))
    rows = session.exec(query).all()
    names = {u.id: u.name for u in list_users(session)}
    return [DelegationView(r.id, names.get(r.from_user_id, "?"), names.get(r.to_user_id, "?"), r.starts_on,
                           r.ends_on, delegation_status(r, today), r.revoked_at) for r in rows]


def revoke_delegation(session: Session, actor: User, delegation_id: int, clock: Clock):
    """End a delegation now: the principal or an admin may; the record stays (revoked_at)."""
    from db.models import Delegation
    from workflow.errors import NotPermitted

    row = session.get(Delegation, delegation_id)
    if row is None:
        raise NotFound(f"代办授权 {delegation_id} 不存在；可用 duban delegate list 查看。")
    if row.from_user_id != actor.id and row.to_user_id != actor.id and not states.administers(actor.roles):
        raise NotPermitted(f"{actor.name}无权撤销代办授权 {delegation_id}：只有授权人本人、代办人或管理员可以撤销。")
    if row.revoked_at is not None:
        raise Refused(f"代办授权 {delegation_id} 已于 {row.revoked_at:%Y-%m-%d} 撤销，无需再次撤销。")
    row.revoked_at = clock.now()
    session.add(row)
    session.commit()
    names = {u.id: u.name for u in list_users(session)}
    return DelegationView(row.id, names.get(row.from_user_id, "?"), names.get(row.to_user_id, "?"),
                          row.starts_on, row.ends_on, "已撤销", row.revoked_at)
