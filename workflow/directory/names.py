"""Which department a name means: exact name, alias, or a unique 简称/全称 containment.

Pure functions over anything with `name` and `aliases` (Department rows, or the light
records workflow/directory_peek.py reads), so `plan import --dry-run` can check a plan's
names without loading the database layer. workflow/directory.py re-exports them.
"""
from __future__ import annotations

import difflib
import unicodedata
from typing import Iterable, Protocol, TypeVar


class Named(Protocol):
    name: str
    aliases: list[str]


D = TypeVar("D", bound=Named)


def normalise(name: str) -> str:
    """Compare names in NFKC form (full-width letters, digits and brackets as ordinary
    ones: NFKC itself turns （） into ()), ignoring spaces."""
    name = unicodedata.normalize("NFKC", name)
    return name.replace(" ", "").replace("\u3000", "").strip()


def match_department(name: str, departments: Iterable[D], fuzzy: bool = True) -> D | None:
    """The department a name means: exact name, then alias, then a unique containment.

    Containment covers 简称/全称 pairs such as 文件审查处 ↔ 规范性文件审查处.
    """
    name = normalise(name)
    departments = list(departments)
    for d in departments:
        if normalise(d.name) == name:
            return d
    for d in departments:
        if name in {normalise(a) for a in d.aliases}:
            return d
    if not fuzzy:
        return None
    hits = [d for d in departments
            if any(name in normalise(n) or normalise(n) in name for n in [d.name, *d.aliases])
            and min(len(name), len(normalise(d.name))) >= 3]
    return hits[0] if len(hits) == 1 else None


def closest_names(name: str, departments: Iterable[Named], n: int = 3) -> list[str]:
    departments = list(departments)
    names = [d.name for d in departments] + [a for d in departments for a in d.aliases]
    return difflib.get_close_matches(name, names, n=n, cutoff=0.3)
