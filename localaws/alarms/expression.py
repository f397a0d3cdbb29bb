"""A small metric-math evaluator: + - * /, parentheses, numbers, query ids and FILL()."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

Series = dict[datetime, float]
Value = Series | float
TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(.))")


class ExpressionError(ValueError):
    """The expression uses something this evaluator does not know."""


def _tokens(text: str) -> list[str]:
    out = []
    for number, name, symbol in TOKEN.findall(text):
        token = number or name or symbol
        if token.strip():
            out.append(token)
    return out


class _Parser:
    """Recursive descent over one expression, computing as it goes."""

    def __init__(self, text: str, values: Mapping[str, Value], grid: Sequence[datetime]) -> None:
        self.tokens = _tokens(text)
        self.position = 0
        self.values = values
        self.grid = grid

    def peek(self) -> str | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise ExpressionError(f"expected {expected or 'more'} at token {self.position}")
        self.position += 1
        return token

    def sum(self) -> Value:
        value = self.product()
        while self.peek() in ("+", "-"):
            op = self.take()
            value = combine(value, self.product(), op)
        return value

    def product(self) -> Value:
        value = self.unary()
        while self.peek() in ("*", "/"):
            op = self.take()
            value = combine(value, self.unary(), op)
        return value

    def unary(self) -> Value:
        if self.peek() == "-":
            self.take()
            return combine(-1.0, self.unary(), "*")
        return self.atom()

    def atom(self) -> Value:
        word = self.take()
        if word == "(":
            value = self.sum()
            self.take(")")
            return value
        if word[0].isdigit():
            return float(word)
        if word.upper() == "FILL":
            self.take("(")
            series = self.sum()
            self.take(",")
            filler = self.sum()
            self.take(")")
            return fill(series, filler, self.grid)
        if word in self.values:
            return self.values[word]
        raise ExpressionError(f"unknown name or function {word!r}")


def combine(left: Value, right: Value, op: str) -> Value:
    """Apply *op* to two values; series align per timestamp, and x/0 gives no point."""
    def one(a: float, b: float) -> float | None:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        return None if b == 0 else a / b

    if isinstance(left, float) and isinstance(right, float):
        result = one(left, right)
        return float("nan") if result is None else result
    lseries = left if isinstance(left, dict) else None
    rseries = right if isinstance(right, dict) else None
    # A series against a number keeps the series' timestamps; two series keep the common ones.
    stamps = sorted(set(lseries if lseries is not None else rseries or {})
                    & set(rseries if rseries is not None else lseries or {}))
    out: Series = {}
    for stamp in stamps:
        a = lseries[stamp] if lseries is not None else float(left)  # type: ignore[arg-type]
        b = rseries[stamp] if rseries is not None else float(right)  # type: ignore[arg-type]
        value = one(a, b)
        if value is not None:
            out[stamp] = value
    return out


def fill(series: Value, filler: Value, grid: Sequence[datetime]) -> Value:
    """Return *series* with a point at every grid timestamp, missing ones set to *filler*."""
    if not isinstance(series, dict):
        return series
    if isinstance(filler, dict):
        raise ExpressionError("FILL takes a number as its value")
    return {stamp: series.get(stamp, filler) for stamp in sorted(set(grid) | set(series))}


def evaluate(expression: str, values: Mapping[str, Value],
             grid: Sequence[datetime] = ()) -> Value:
    """Return the value of *expression* over *values* (query id -> series or number)."""
    parser = _Parser(expression, values, grid)
    value = parser.sum()
    if parser.peek() is not None:
        raise ExpressionError(f"unexpected {parser.peek()!r} in {expression!r}")
    return value
