"""Record what a client asks the emulator, normalise it, and compare two clients' requests.

A **step** is one distinct (method, spec path template) at its first occurrence in a recording, with
the union of the top-level body keys (camelCase) it was ever sent with. Normalising this way merges
polling (``GET .../runs/{run_id}`` a hundred times is one step) and parallel multipart parts, yet
still shows a wrong endpoint (a step only one side has), a missing step, create/run in the wrong
order (a step both sides have, out of sequence) and a missing required body key.

A **difference** is keyed ``(operation, kind, call, detail)``:

- ``missing-call`` / ``extra-call``: the official client makes the call and we do not / the reverse;
- ``order``: both make the call, in a different position relative to the others;
- ``missing-key`` / ``extra-key``: both make the call, ``detail`` is a body key only one side sends.

``docs/differential.md`` lists every difference as *justified* (it must occur) or *fixed* (it must
not occur again); :func:`check_against_table` fails on anything else.
"""

from __future__ import annotations

import difflib
import json
import re
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KINDS = ("missing-call", "extra-call", "order", "missing-key", "extra-key")
TABLE_PATH = Path(__file__).resolve().parents[3] / "docs" / "differential.md"


def camel(name: str) -> str:
    """``existing_table_rows`` -> ``existingTableRows`` (civis-python and the spec name keys both ways)."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class Recorder:
    """Reads ``GET /_emulator/requests`` of one emulator: ``mark()`` before, ``since(mark)`` after."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key

    def _get(self, since: int) -> dict[str, Any]:
        request = urllib.request.Request(f"{self.base_url}/_emulator/requests?since={since}",
                                         headers={"Authorization": f"Bearer {self.api_key}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def mark(self) -> int:
        return int(self._get(2**62)["next"])

    def since(self, mark: int) -> list[dict[str, Any]]:
        return self._get(mark)["requests"]

    def record(self, fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, list[dict[str, Any]]]:
        """Call ``fn`` and return its result with the requests it made (nothing else may run meanwhile)."""
        start = self.mark()
        result = fn(*args, **kwargs)
        return result, self.since(start)


@dataclass(frozen=True)
class Step:
    method: str
    template: str
    body_keys: frozenset[str]

    @property
    def call(self) -> str:
        return f"{self.method} {self.template}"


def normalise(entries: list[dict[str, Any]]) -> list[Step]:
    """Each distinct (method, template) once, at its first occurrence, with every body key it carried."""
    order: list[tuple[str, str]] = []
    keys: dict[tuple[str, str], set[str]] = {}
    for entry in entries:
        call = (entry["method"], entry["template"])
        if call not in keys:
            order.append(call)
            keys[call] = set()
        keys[call].update(camel(k) for k in entry.get("bodyKeys") or ())
    return [Step(m, t, frozenset(keys[(m, t)])) for m, t in order]


@dataclass(frozen=True, order=True)
class Difference:
    operation: str
    kind: str
    call: str
    detail: str = ""

    def __str__(self) -> str:
        return f"| {self.operation} | {self.kind} | `{self.call}` | {self.detail} |"


def compare(operation: str, official: list[dict[str, Any]], ours: list[dict[str, Any]]) -> set[Difference]:
    a, b = normalise(official), normalise(ours)
    a_calls, b_calls = [s.call for s in a], [s.call for s in b]
    matched_a: set[int] = set()
    for block in difflib.SequenceMatcher(a=a_calls, b=b_calls, autojunk=False).get_matching_blocks():
        matched_a.update(range(block.a, block.a + block.size))
    out: set[Difference] = set()
    for i, call in enumerate(a_calls):
        if call not in b_calls:
            out.add(Difference(operation, "missing-call", call))
        elif i not in matched_a:
            out.add(Difference(operation, "order", call))
    out.update(Difference(operation, "extra-call", call) for call in b_calls if call not in a_calls)
    ours_by_call = {s.call: s for s in b}
    for step in a:
        mine = ours_by_call.get(step.call)
        if mine is None:
            continue
        out.update(Difference(operation, "missing-key", step.call, k) for k in step.body_keys - mine.body_keys)
        out.update(Difference(operation, "extra-key", step.call, k) for k in mine.body_keys - step.body_keys)
    return out


# -- the table ------------------------------------------------------------------------------------------
_ROW = re.compile(r"^\|\s*(?P<op>[^|]+?)\s*\|\s*(?P<kind>[^|]+?)\s*\|\s*`(?P<call>[^`]+)`\s*\|\s*(?P<detail>[^|]*?)\s*"
                  r"\|\s*(?P<why>[^|]*?)\s*\|\s*$")


@dataclass(frozen=True)
class Table:
    justified: dict[Difference, str]
    fixed: dict[Difference, str]


def load_table(path: Path = TABLE_PATH) -> Table:
    """Rows under ``## Justified differences`` and ``## Fixed differences``; other text is prose."""
    sections: dict[str, dict[Difference, str]] = {"justified": {}, "fixed": {}}
    current: dict[Difference, str] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            title = line[3:].strip().lower()
            current = next((rows for name, rows in sections.items() if title.startswith(name)), None)
            continue
        match = _ROW.match(line)
        if current is None or not match:
            continue
        diff = Difference(match["op"], match["kind"], match["call"], match["detail"])
        if diff.kind not in KINDS:
            raise ValueError(f"{path.name}: unknown kind {diff.kind!r} in row {line!r} (one of {KINDS})")
        if not match["why"]:
            raise ValueError(f"{path.name}: row {line!r} needs a one-line reason")
        if diff in sections["justified"] or diff in sections["fixed"]:
            raise ValueError(f"{path.name}: row {line!r} is listed twice")
        current[diff] = match["why"]
    return Table(sections["justified"], sections["fixed"])


def check_against_table(operation: str, found: set[Difference], table: Table | None = None) -> None:
    """Every difference found is a justified row; every justified row of ``operation`` still occurs."""
    table = table or load_table()
    expected = {d for d in table.justified if d.operation == operation}
    unlisted = sorted(found - expected)
    gone = sorted(expected - found)
    problems = []
    if unlisted:
        regressed = [d for d in unlisted if d in table.fixed]
        new = [d for d in unlisted if d not in table.fixed]
        if regressed:
            problems.append("differences listed as FIXED occur again:\n" + "\n".join(map(str, regressed)))
        if new:
            problems.append("differences not in docs/differential.md (fix them, or add a justified row):\n"
                            + "\n".join(map(str, new)))
    if gone:
        problems.append("justified rows that no longer occur (move them to 'Fixed differences'):\n"
                        + "\n".join(map(str, gone)))
    assert not problems, f"{operation}:\n" + "\n\n".join(problems)


def describe(entries: list[dict[str, Any]]) -> str:
    """The normalised steps, one a line, for assertion messages and for writing new table rows."""
    return "\n".join(f"  {s.call} {sorted(s.body_keys) if s.body_keys else ''}" for s in normalise(entries))
