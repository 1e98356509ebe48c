"""docs/rules.md defines every rule the code names, and what it lists exists.

(a) every R<number> named in the code, the tests and the docs is a section of docs/rules.md;
(b) every module or folder in an "Enforced in" list exists, and every name given with it is
    defined there (read with ast: nothing is imported);
(c) every test in a "Proved by" list exists (for a scenario file: the file);
(d) nothing points to a specification outside the repository.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RULES = ROOT / "docs" / "rules.md"
#: Where rules are named: the code, the tests, the benchmarks, and the docs and README.
NAMING = ("bot", "conversations", "handlers", "web", "jobs", "cli", "tests", "benchmarks", "docs")
TEXT_SUFFIXES = {".py", ".yaml", ".yml", ".md", ".html", ".js", ".css", ".mako", ".txt"}

HEADING = re.compile(r"^## (.+)$")
RULE_HEADING = re.compile(r"^R(\d+) — \S")
LISTS = {"**Enforced in**": "enforced", "**Proved by**": "proved"}
TICKED = re.compile(r"`([^`]+)`")
#: "R4", "(R5/R9)", "R1–R3" in prose; `test_r7_…` and `…_access_r8` in test names.
RULE_NAMED = re.compile(r"\bR(\d+)\b")
TEST_NAME = re.compile(r"\btest_\w+")
RULE_IN_TEST_NAME = re.compile(r"(?<=_)r(\d+)(?=_|$)")
#: A specification outside the repository; an RFC's section is a public fact, not one.
OUTSIDE = re.compile(r"SPEC\b|\bSTYLE\b|\.\./shared|shared/|(?<!RFC \d{4} )§")


@dataclass(frozen=True)
class Entry:
    path: str
    names: tuple[str, ...] = ()


@dataclass
class Section:
    title: str
    enforced: list[Entry] = field(default_factory=list)
    proved: list[Entry] = field(default_factory=list)

    @property
    def rule(self) -> int | None:
        match = RULE_HEADING.match(self.title)
        return int(match.group(1)) if match else None


def entries(item: str) -> list[Entry]:
    """`- `path` `name`, `name` — prose`: names before the dash, each after its path."""
    found: list[tuple[str, list[str]]] = []
    for token in TICKED.findall(item.split(" — ", 1)[0]):
        if "/" in token or token.endswith(".py"):
            found.append((token, []))
        elif found:
            found[-1][1].append(token)
        else:
            raise ValueError(f"a name before any path: {item!r}")
    return [Entry(path, tuple(names)) for path, names in found]


def parse(text: str) -> list[Section]:
    sections: list[Section] = []
    listing = None
    for line in text.splitlines():
        heading = HEADING.match(line)
        if heading:
            sections.append(Section(heading.group(1)))
            listing = None
        elif sections and line.strip() in LISTS:
            listing = LISTS[line.strip()]
        elif listing and line.startswith("- "):
            getattr(sections[-1], listing).extend(entries(line[2:]))
        elif line.strip():
            listing = None
    return sections


@cache
def defined(path: Path) -> frozenset[str]:
    """Top-level functions, classes and assignments, and `Class.member` for their members."""
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        names.update(_bound(node))
        if isinstance(node, ast.ClassDef):
            names.update(f"{node.name}.{member}" for inner in node.body for member in _bound(inner))
    return frozenset(names)


def _bound(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.Assign):
        return [t.id for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return [node.target.id]
    return []


def problems(sections: list[Section], root: Path = ROOT) -> list[str]:
    """What in the sections' lists does not exist, in words."""
    found = []
    for section in sections:
        where = f"docs/rules.md, {section.title}"
        if section.rule is not None and not (section.enforced and section.proved):
            found.append(f"{where}: a rule needs an 'Enforced in' and a 'Proved by' list")
        for entry, tests in [(e, False) for e in section.enforced] + [(e, True) for e in section.proved]:
            path = root / entry.path
            if not path.exists():
                found.append(f"{where}: {entry.path} does not exist")
            elif path.suffix != ".py":
                found.extend(f"{where}: {entry.path} is not a module, it has no {name}"
                             for name in entry.names)
            else:
                found.extend(f"{where}: {entry.path} has no {name}" for name in entry.names
                             if name not in defined(path) or (tests and not name.startswith("test_")))
    return found


def rules_named_in(text: str) -> set[int]:
    named = {int(n) for n in RULE_NAMED.findall(text)}
    for test in TEST_NAME.findall(text):
        named.update(int(n) for n in RULE_IN_TEST_NAME.findall(test))
    return named


def _files():
    for top in NAMING:
        for path in sorted((ROOT / top).rglob("*")):
            if path.suffix in TEXT_SUFFIXES and path.is_file() and path != RULES:
                yield path
    yield ROOT / "README.md"


def test_every_rule_the_code_names_is_a_section():
    defined_rules = {s.rule for s in parse(RULES.read_text(encoding="utf-8"))}
    undefined = {}
    for path in _files():
        for rule in rules_named_in(path.read_text(encoding="utf-8")) - defined_rules:
            undefined.setdefault(f"R{rule}", []).append(str(path.relative_to(ROOT)))
    assert undefined == {}


def test_every_place_and_test_listed_exists():
    sections = parse(RULES.read_text(encoding="utf-8"))
    assert {s.rule for s in sections if s.rule} == set(range(1, 16))
    assert problems(sections) == []


def test_nothing_points_to_a_specification_outside_the_repository():
    outside = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
               for path in _files() if path.suffix in {".py", ".md"} and path != Path(__file__).resolve()
               for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
               if OUTSIDE.search(line)]
    assert outside == []


# The checks themselves, on made-up text: they find what is wrong, not only pass.

MADE_UP = """\
# Rules

## R1 — Something

Prose that names `not/a/path.py` outside a list.

**Enforced in**
- `bot/domain/premium.py` `judge`, `Judgement.replaced`, `MAX_PREMIUM_PLACES` — prose `ignored`
- `bot/domain/registration.py` `basic_refusal` and `bot/nowhere.py` `anything`
- `bot/domain/premium.py` `no_such_function`
- `conversations/registration/`

**Proved by**
- `tests/test_domain.py` `test_r1_not_participating`, `test_no_such_test`, `held`
- `tests/scenarios/en/nothing_like_it.yaml`

A paragraph ends the list.
- `bot/not_listed.py` `ignored`

## R2 — A rule without lists

## Webhook events
"""


def test_the_parser_reads_sections_lists_and_names():
    first, second, third = parse(MADE_UP)
    assert (first.rule, second.rule, third.rule) == (1, 2, None)
    assert first.enforced == [
        Entry("bot/domain/premium.py", ("judge", "Judgement.replaced", "MAX_PREMIUM_PLACES")),
        Entry("bot/domain/registration.py", ("basic_refusal",)),
        Entry("bot/nowhere.py", ("anything",)),
        Entry("bot/domain/premium.py", ("no_such_function",)),
        Entry("conversations/registration/")]
    assert [e.path for e in first.proved] == ["tests/test_domain.py",
                                              "tests/scenarios/en/nothing_like_it.yaml"]


def test_the_checks_name_what_is_missing():
    assert problems(parse(MADE_UP)) == [
        "docs/rules.md, R1 — Something: bot/nowhere.py does not exist",
        "docs/rules.md, R1 — Something: bot/domain/premium.py has no no_such_function",
        "docs/rules.md, R1 — Something: tests/test_domain.py has no test_no_such_test",
        "docs/rules.md, R1 — Something: tests/test_domain.py has no held",
        "docs/rules.md, R1 — Something: tests/scenarios/en/nothing_like_it.yaml does not exist",
        "docs/rules.md, R2 — A rule without lists: a rule needs an 'Enforced in' and a 'Proved by' list"]


def test_rules_are_found_in_prose_and_in_test_names():
    text = 'x = 1  # R4, (R5/R9), R1–R3\ndef test_r12_a_code_r13_x(): ...\ndef test_access_r8(): ...'
    assert rules_named_in(text) == {1, 3, 4, 5, 8, 9, 12, 13}
    assert rules_named_in("RFC 9110, PR12x, r7 and test_mirror_x") == set()


def test_a_reference_outside_is_found_and_an_rfc_is_not():
    assert OUTSIDE.search("(SPEC §5)") and OUTSIDE.search("see ../shared/STYLE.md")
    assert OUTSIDE.search("the bars of §5")
    assert OUTSIDE.search("Imports flow one way (STYLE.md)") and OUTSIDE.search("(STYLE: one place)")
    assert not OUTSIDE.search("an HTTP date (RFC 9110 §10.2.3)")
