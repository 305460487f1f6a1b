"""Spreadsheet-safe CSV cells (STANDARDS): a cell a spreadsheet would read as a formula
(starting with =, +, -, @, a tab or a carriage return) is prefixed with a single quote,
so opening an export never runs what a visitor typed into a form."""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """The text of `value` for a CSV cell, neutralised. None is empty; numbers are
    written as numbers (a negative number is data, not a formula)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def safe_row(values: list[Any] | tuple[Any, ...]) -> list[str]:
    return [safe_cell(v) for v in values]
