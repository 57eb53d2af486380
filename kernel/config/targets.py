"""Target expressions of routing steps, e.g. ``billing >= 7``, ``billing >= 3 or general``.

Grammar (whitespace separated, case-sensitive skill names)::

    expr   := term ("or" term)*
    term   := factor ("and" factor)*
    factor := "any" | "(" expr ")" | SKILL [OP LEVEL]
    OP     := ">=" | ">" | "<=" | "<" | "=="

A bare SKILL means "has the skill at any level". Pure: parsed once at start,
evaluated per candidate agent against a mapping skill -> level.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

_TOKEN = re.compile(r"\s*(>=|<=|==|>|<|\(|\)|[A-Za-z_][A-Za-z0-9_]*|\d+)")
_OPS: dict[str, Callable[[int, int], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}


class TargetSyntaxError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class SkillTest:
    skill: str
    op: str | None = None
    level: int = 0

    def __call__(self, skills: Mapping[str, int]) -> bool:
        have = skills.get(self.skill)
        if have is None:
            return False
        return True if self.op is None else _OPS[self.op](have, self.level)


@dataclass(frozen=True, slots=True)
class AnyAgent:
    def __call__(self, skills: Mapping[str, int]) -> bool:
        return True


@dataclass(frozen=True, slots=True)
class AllOf:
    parts: tuple[Target, ...]

    def __call__(self, skills: Mapping[str, int]) -> bool:
        return all(p(skills) for p in self.parts)


@dataclass(frozen=True, slots=True)
class AnyOf:
    parts: tuple[Target, ...]

    def __call__(self, skills: Mapping[str, int]) -> bool:
        return any(p(skills) for p in self.parts)


Target = SkillTest | AnyAgent | AllOf | AnyOf


def skills_named(target: Target) -> set[str]:
    if isinstance(target, SkillTest):
        return {target.skill}
    if isinstance(target, AnyAgent):
        return set()
    out: set[str] = set()
    for part in target.parts:
        out |= skills_named(part)
    return out


def parse_target(text: str) -> Target:
    tokens = _tokenize(text)
    parser = _Parser(tokens, text)
    result = parser.expr()
    if parser.pos != len(tokens):
        raise TargetSyntaxError(f"unexpected {tokens[parser.pos]!r} in {text!r}")
    return result


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    stripped = text.rstrip()
    while pos < len(stripped):
        m = _TOKEN.match(stripped, pos)
        if not m:
            raise TargetSyntaxError(f"cannot read {stripped[pos:]!r} in {text!r}")
        tokens.append(m.group(1))
        pos = m.end()
    if not tokens:
        raise TargetSyntaxError("empty target expression")
    return tokens


class _Parser:
    def __init__(self, tokens: list[str], text: str) -> None:
        self.tokens = tokens
        self.text = text
        self.pos = 0

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self) -> str:
        tok = self._peek()
        if tok is None:
            raise TargetSyntaxError(f"unexpected end of {self.text!r}")
        self.pos += 1
        return tok

    def expr(self) -> Target:
        parts = [self.term()]
        while self._peek() == "or":
            self.pos += 1
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else AnyOf(tuple(parts))

    def term(self) -> Target:
        parts = [self.factor()]
        while self._peek() == "and":
            self.pos += 1
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else AllOf(tuple(parts))

    def factor(self) -> Target:
        tok = self._take()
        if tok == "(":
            inner = self.expr()
            if self._take() != ")":
                raise TargetSyntaxError(f"missing ')' in {self.text!r}")
            return inner
        if tok == "any":
            return AnyAgent()
        if not (tok[0].isalpha() or tok[0] == "_") or tok in ("and", "or"):
            raise TargetSyntaxError(f"expected a skill name, got {tok!r} in {self.text!r}")
        if self._peek() in _OPS:
            op = self._take()
            level = self._take()
            if not level.isdigit():
                raise TargetSyntaxError(f"expected a level after {op!r} in {self.text!r}")
            return SkillTest(tok, op, int(level))
        return SkillTest(tok)
