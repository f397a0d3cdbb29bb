"""Metric math for widgets: + - * /, parentheses, numbers, ids and FILL(id, value).

GetMetricData on AWS evaluates expressions itself; moto only echoes them, so the renderer
evaluates them here, the same way for both, from the series the widget's metric lines got.
Series are aligned by timestamp: a binary operation keeps the timestamps both sides have,
as CloudWatch does; FILL gives a series a value at every timestamp of the widget.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

Series = dict[datetime, float]
Value = Series | float
_TOKEN = re.compile(r"\s*(?:(?P<number>\d+(?:\.\d+)?)|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
                    r"|(?P<op>[-+*/(),]))")


def _tokens(text: str) -> list[str]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ValueError(f"cannot read expression at {text[pos:]!r}")
        out.append(match.group(match.lastgroup or ""))
        pos = match.end()
    return out


def _apply(left: Value, right: Value, op: Callable[[float, float], float | None]) -> Value:
    if isinstance(left, dict) and isinstance(right, dict):
        pairs = {t: op(left[t], right[t]) for t in left.keys() & right.keys()}
    elif isinstance(left, dict):
        pairs = {t: op(v, float(right)) for t, v in left.items()}  # type: ignore[arg-type]
    elif isinstance(right, dict):
        pairs = {t: op(float(left), v) for t, v in right.items()}
    else:
        result = op(left, right)
        return float("nan") if result is None else result
    return {t: v for t, v in sorted(pairs.items()) if v is not None}


def _divide(a: float, b: float) -> float | None:
    return None if b == 0 else a / b  # no datapoint, as CloudWatch gives for a zero divisor


OPS: dict[str, Callable[[float, float], float | None]] = {
    "+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": _divide}


class _Parser:
    def __init__(self, text: str, series: dict[str, Series], grid: list[datetime]) -> None:
        self.tokens, self.pos = _tokens(text), 0
        self.series, self.grid = series, grid

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        item = self.peek()
        if item is None or (expected is not None and item != expected):
            raise ValueError(f"expected {expected or 'more'} in expression, got {item}")
        self.pos += 1
        return item

    def expression(self) -> Value:
        value = self.term()
        while self.peek() in ("+", "-"):
            op = self.take()
            value = _apply(value, self.term(), OPS[op])
        return value

    def term(self) -> Value:
        value = self.factor()
        while self.peek() in ("*", "/"):
            op = self.take()
            value = _apply(value, self.factor(), OPS[op])
        return value

    def factor(self) -> Value:
        item = self.take()
        if item == "(":
            value = self.expression()
            self.take(")")
            return value
        if item == "-":
            return _apply(-1.0, self.factor(), OPS["*"])
        if item[0].isdigit():
            return float(item)
        if item == "FILL":
            self.take("(")
            inner = self.expression()
            self.take(",")
            fill = self.expression()
            self.take(")")
            if not isinstance(inner, dict) or isinstance(fill, dict):
                raise ValueError("FILL takes a series and a number")
            return {t: inner.get(t, fill) for t in self.grid}
        if item not in self.series:
            raise ValueError(f"expression names unknown id {item}")
        return self.series[item]


def evaluate(text: str, series: dict[str, Series]) -> Series:
    """Return the series *text* computes from the series named by id in *series*."""
    grid = sorted({t for s in series.values() for t in s})
    parser = _Parser(text, series, grid)
    value = parser.expression()
    if parser.peek() is not None:
        raise ValueError(f"unexpected {parser.peek()} in expression {text}")
    if not isinstance(value, dict):
        return dict.fromkeys(grid, value)
    return value
