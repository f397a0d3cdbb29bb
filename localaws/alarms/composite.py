"""Composite alarm rules: ALARM(), OK(), INSUFFICIENT_DATA(), AND, OR, NOT, TRUE, FALSE."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

STATES = ("ALARM", "OK", "INSUFFICIENT_DATA")
TOKEN = re.compile(r'\s*(?:"([^"]*)"|([()])|([^\s()"]+))')


class RuleError(ValueError):
    """The rule is not a composite alarm rule this evaluator understands."""


@dataclass(frozen=True)
class CompositeResult:
    """A composite alarm's new state, why, and the alarms whose states made it so."""

    state: str
    reason: str
    triggering: list[str]


def _tokens(rule: str) -> list[tuple[str, str]]:
    """Return (kind, text) tokens: kind is `name` (quoted), `paren` or `word`."""
    out = []
    position = 0
    while position < len(rule):
        match = TOKEN.match(rule, position)
        if match is None or match.end() == position:
            if rule[position:].strip():
                raise RuleError(f"cannot read {rule[position:]!r}")
            break
        position = match.end()
        quoted, paren, word = match.groups()
        if quoted is not None:
            out.append(("name", quoted))
        elif paren is not None:
            out.append(("paren", paren))
        elif word is not None:
            out.append(("word", word))
    return out


def alarm_name(reference: str) -> str:
    """Return the alarm name of a rule reference, which may be a name or an alarm ARN."""
    return reference.split(":alarm:", 1)[1] if ":alarm:" in reference else reference


def referenced(rule: str) -> list[str]:
    """Return the alarm names a rule refers to, in order of first mention."""
    tokens = _tokens(rule)
    names: list[str] = []
    for index, (kind, text) in enumerate(tokens):
        if kind == "word" and text.upper() in STATES and index + 2 < len(tokens):
            name = alarm_name(tokens[index + 2][1])
            if name not in names:
                names.append(name)
    return names


class _Rule:
    """Recursive descent: OR binds loosest, then AND, then NOT."""

    def __init__(self, rule: str, states: Mapping[str, str]) -> None:
        self.tokens = _tokens(rule)
        self.position = 0
        self.states = states
        self.triggering: list[str] = []

    def peek(self) -> str | None:
        if self.position >= len(self.tokens):
            return None
        kind, text = self.tokens[self.position]
        return text.upper() if kind == "word" else text

    def take(self) -> tuple[str, str]:
        if self.position >= len(self.tokens):
            raise RuleError("the rule ends too early")
        self.position += 1
        return self.tokens[self.position - 1]

    def any_of(self) -> bool:
        value = self.all_of()
        while self.peek() == "OR":
            self.take()
            value = self.all_of() or value
        return value

    def all_of(self) -> bool:
        value = self.negation()
        while self.peek() == "AND":
            self.take()
            value = self.negation() and value
        return value

    def negation(self) -> bool:
        if self.peek() == "NOT":
            self.take()
            return not self.negation()
        return self.atom()

    def atom(self) -> bool:
        kind, text = self.take()
        word = text.upper()
        if kind == "paren" and text == "(":
            value = self.any_of()
            if self.take() != ("paren", ")"):
                raise RuleError("a parenthesis is not closed")
            return value
        if kind == "word" and word in ("TRUE", "FALSE"):
            return word == "TRUE"
        if kind == "word" and word in STATES:
            if self.take() != ("paren", "("):
                raise RuleError(f"{word} takes an alarm name in parentheses")
            name = alarm_name(self.take()[1])
            if self.take() != ("paren", ")"):
                raise RuleError(f"{word}({name} is not closed")
            if name not in self.states:
                raise RuleError(f"the rule names an unknown alarm {name!r}")
            holds = self.states[name] == word
            if holds and name not in self.triggering:
                self.triggering.append(name)
            return holds
        raise RuleError(f"unexpected {text!r}")


def evaluate_rule(rule: str, states: Mapping[str, str]) -> CompositeResult:
    """Return a composite alarm's state given the states of the alarms its rule names.

    The rule holding means ALARM and not holding means OK, as in CloudWatch; while every
    alarm it names is still INSUFFICIENT_DATA (all just created), so is the composite.
    """
    parser = _Rule(rule, states)
    holds = parser.any_of()
    if parser.position != len(parser.tokens):
        raise RuleError(f"unexpected {parser.tokens[parser.position][1]!r} in the rule")
    names = referenced(rule)
    if holds:
        return CompositeResult("ALARM", f"{rule} is TRUE: " + ", ".join(
            f"{n} is {states[n]}" for n in parser.triggering), parser.triggering)
    if names and all(states[n] == "INSUFFICIENT_DATA" for n in names):
        return CompositeResult("INSUFFICIENT_DATA",
                               "every alarm the rule names has insufficient data", [])
    return CompositeResult("OK", f"{rule} is FALSE", [])
