"""The one YAML loader for plan and directory files: safe, and dates stay strings.

PyYAML's safe loader builds `datetime.date` objects from unquoted dates, and raises a bare
ValueError (not a YAMLError) for one that does not exist (`2021-02-30`). Keeping every
timestamp as its text lets the importers' own date checks name the bad value.
"""
from __future__ import annotations

from typing import Any

_LOADER: type | None = None


def _loader() -> type:
    global _LOADER
    if _LOADER is None:
        import yaml

        base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

        class TextDateLoader(base):  # type: ignore[misc, valid-type]
            """SafeLoader whose timestamps are plain strings."""

        TextDateLoader.add_constructor("tag:yaml.org,2002:timestamp",
                                       lambda loader, node: loader.construct_scalar(node))
        _LOADER = TextDateLoader
    return _LOADER


def load_yaml(text: str) -> Any:
    """Parse YAML text safely; raises yaml.YAMLError on bad syntax."""
    import yaml

    return yaml.load(text, Loader=_loader())
