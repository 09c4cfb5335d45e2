"""Plain command-line values without pydantic, so every command starts fast.

typer (0.2x) converts each parameter value through a pydantic TypeAdapter, built on
first use. That imports pydantic and builds one adapter per parameter, ~100 ms on every
command that takes an option — as much as the whole of `duban --version`, and the reason
`plan import --dry-run` could not be interactive (issue 3: ≤ 1.3× `--version`). The
values duban takes are str, int (with min/max), bool and Path: converting those is a
line each. `install()` gives typer a light converter for exactly those types and leaves
every other one (lists, enums, dates, parsers, files) to typer as before.

This relies on two typer internals (`typer.core._TyperParameter.get_runtime_param`,
`typer._coercion.RuntimeParam`). If they are missing or different, `install()` does
nothing and typer works as before, only slower; tests/test_fast_params.py says which.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

_TRUE = {"1", "true", "t", "yes", "y", "on"}
_FALSE = {"0", "false", "f", "no", "n", "off", ""}


def install() -> bool:
    """Use the light converters from now on; False if this typer cannot take them."""
    try:
        from typer import _coercion, core
        from typer._click.exceptions import BadParameter
        from typer._param_types import coerce_cli_path
    except ImportError:
        return False
    parameter = getattr(core, "_TyperParameter", None)
    original = getattr(parameter, "get_runtime_param", None)
    if original is None or not hasattr(_coercion, "RuntimeParam"):
        return False
    if getattr(original, "_duban_light", False):
        return True  # installed already
    light = _light_class(_coercion.RuntimeParam, BadParameter, coerce_cli_path)

    def get_runtime_param(self: Any) -> Any:
        if getattr(self, "_runtime_param", None) is None:
            convert = _converter_for(self.type_descriptor)
            if convert is not None:
                info = self.type_descriptor.parameter_info
                self._runtime_param = light(parameter_info=info, annotation=self.type_descriptor.annotation,
                                            convert=convert)
        return original(self)

    get_runtime_param._duban_light = True  # type: ignore[attr-defined]
    parameter.get_runtime_param = get_runtime_param
    return True


def _converter_for(descriptor: Any) -> str | None:
    """Which light conversion a parameter gets, or None to leave it to typer."""
    info = descriptor.parameter_info
    if descriptor.file_annotation is not None or info.parser is not None or getattr(info, "click_type", None):
        return None
    annotation = descriptor.annotation
    if annotation is str:
        return "str"
    if annotation is bool:
        return "bool"
    if annotation is int and not getattr(info, "clamp", False):
        return "int"
    if annotation is Path and getattr(info, "path_type", None) in (None, Path) and not info.allow_dash:
        return "path"
    return None


def _light_class(base: type, bad_parameter: type[Exception], coerce_cli_path: Callable[..., Any]) -> type:
    """A typer RuntimeParam subclass converting str, bool, int and Path values."""
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class LightParam(base):  # type: ignore[misc, valid-type]
        convert: str = "str"

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            try:
                return _CONVERT[self.convert](value, self.parameter_info, param, ctx, coerce_cli_path)
            except ValueError as exc:
                raise bad_parameter(str(exc), ctx=ctx, param=param) from None

    return LightParam


def _to_str(value: Any, *_: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _to_bool(value: Any, *_: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise ValueError(f"“{value}”不是有效的布尔值（可用 true/false、yes/no、1/0）。")


def _to_int(value: Any, info: Any, *_: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"“{value}”不是整数。")
    try:
        number = int(value)
    except ValueError:
        raise ValueError(f"“{value}”不是整数。") from None
    if info.min is not None and number < info.min:
        raise ValueError(f"{number} 太小，应不小于 {info.min}。")
    if info.max is not None and number > info.max:
        raise ValueError(f"{number} 太大，应不大于 {info.max}。")
    return number


def _to_path(value: Any, info: Any, param: Any, ctx: Any, coerce_cli_path: Callable[..., Any]) -> Any:
    """typer's own path checks (exists, file_okay, …), given a Path so it needs no pydantic."""
    return coerce_cli_path(Path(value), info, path_type=Path, param=param, ctx=ctx)


_CONVERT: dict[str, Callable[..., Any]] = {"str": _to_str, "bool": _to_bool, "int": _to_int, "path": _to_path}
