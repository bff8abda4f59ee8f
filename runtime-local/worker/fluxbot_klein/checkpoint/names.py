"""One name table per model, read in both directions: BFL's key names <-> another library's.

A `Rule` pairs a pattern in BFL's names with the same tensor's pattern in the other naming
(diffusers for FLUX.2). Patterns hold fields in braces: `{param}` is one name component,
`{rest}` any remainder, `{side}` encoder or decoder, any other field a number. `NameTable.rename`
finds the first rule whose pattern matches on the source side and writes the target side with
the same fields, so one table serves both directions and the rule order is the priority in both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable, Sequence

_FIELDS = {"param": r"[^.]+", "rest": r".+", "side": r"encoder|decoder"}
_NUMBER = r"\d+"  # every other field
_FIELD_RE = re.compile(r"\{(\w+)\}")


def _compile(pattern: str, whole: bool = True) -> re.Pattern[str]:
    parts, pos = [], 0
    for m in _FIELD_RE.finditer(pattern):
        parts.append(re.escape(pattern[pos:m.start()]))
        parts.append(f"(?P<{m.group(1)}>{_FIELDS.get(m.group(1), _NUMBER)})")
        pos = m.end()
    parts.append(re.escape(pattern[pos:]))
    return re.compile("".join(parts) + (r"\Z" if whole else ""))


def _prefix(pattern: str, field: str) -> re.Pattern[str]:
    """The pattern up to and including `{field}.`, matched at the start of a name."""
    return _compile(pattern[:pattern.index("{" + field + "}") + len(field) + 3], whole=False)


@dataclass(frozen=True)
class Rule:
    """One tensor (or module, through `{param}` / `{rest}`) in BFL's names and the other naming.

    other: a tuple when BFL fuses along dim 0 what the other naming keeps as separate tensors.
    param: (BFL's, the other's) spelling of a `{param}` that differs between the two.
    value: a tag the model's code reads to convert the value with the name (e.g. "swap_halves").
    read_only: an alternative spelling in the other naming, accepted when reading, never written.
    reverse: a numbered field that counts from the other end in the other naming.
    """

    bfl: str
    other: str | tuple[str, ...]
    param: tuple[str, str] | None = None
    value: str = ""
    read_only: bool = False
    reverse: str = ""

    @property
    def others(self) -> tuple[str, ...]:
        return self.other if isinstance(self.other, tuple) else (self.other,)


@dataclass(frozen=True)
class Renamed:
    """Where a name goes: its rule, which part of a split rule it is, the target name(s)."""

    rule: Rule
    part: int
    target: str | tuple[str, ...]
    fields: dict[str, str]


class NameTable:
    """Ordered rules between BFL's names and another naming; see the module docstring."""

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        self._bfl = [_compile(r.bfl) for r in self.rules]
        self._other = [tuple(_compile(p) for p in r.others) for r in self.rules]

    def levels(self, names: Iterable[str], to_bfl: bool) -> dict[str, int]:
        """For each `reverse` field: 1 + the largest number it takes in names (source side), or 0."""
        names = list(names)
        found: dict[str, int] = {}
        for rule in self.rules:
            if not rule.reverse or rule.reverse in found:
                continue
            source = rule.others[0] if to_bfl else rule.bfl
            prefix = _prefix(source, rule.reverse)
            numbers = [int(m.group(rule.reverse)) for m in map(prefix.match, names) if m]
            found[rule.reverse] = max(numbers) + 1 if numbers else 0
        return found

    def rename(self, name: str, to_bfl: bool, levels: dict[str, int] | None = None) -> Renamed | None:
        """The first rule matching name on the source side, with the target name(s); None when none does."""
        for rule, bfl, others in zip(self.rules, self._bfl, self._other):
            if to_bfl:
                part, m = next(((i, m) for i, m in enumerate(p.match(name) for p in others) if m), (0, None))
            elif rule.read_only:
                continue
            else:
                part, m = 0, bfl.match(name)
            if m is None:
                continue
            fields = m.groupdict()
            target_fields = dict(fields)
            if rule.param is not None and "param" in fields:
                source_param, target_param = rule.param[::-1] if to_bfl else rule.param
                if fields["param"] == source_param:
                    target_fields["param"] = target_param
            if rule.reverse:
                count = (levels or {}).get(rule.reverse, 0)
                target_fields[rule.reverse] = str(count - 1 - int(fields[rule.reverse]))
            targets = tuple(p.format(**target_fields) for p in ((rule.bfl,) if to_bfl else rule.others))
            split = not to_bfl and isinstance(rule.other, tuple)
            return Renamed(rule, part, targets if split else targets[0], fields)
        return None
