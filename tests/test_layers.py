"""Imports flow one way, from the entry points down to the rules:

    handlers, web, jobs, cli  →  conversations  →  bot  →  bot/domain

Nothing under bot/ imports conversations/ or the entry points; conversations/ imports no entry
point; bot/domain imports only the standard library and bot/domain. No module imports a module
of the project inside a function (the usual way round a cycle, and a sign the layering is
wrong). Every import is read from the source, those inside functions and `if` blocks too.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PACKAGES = ("bot", "conversations", "handlers", "web", "jobs", "cli")
ENTRY_POINTS = ("handlers", "web", "jobs", "cli")
#: What each layer may not import, by top-level package.
FORBIDDEN = {"bot": {"conversations", *ENTRY_POINTS}, "conversations": set(ENTRY_POINTS)}
DOMAIN = "bot.domain"
#: Function-level imports of the project kept on purpose: {(module, imported): why}. Empty:
#: an optional heavy dependency would be the kind of thing to list, never a cycle.
ALLOWED_IN_FUNCTIONS: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    module: str       # the importing module: bot.services.premium
    imported: str     # the module it names: conversations.common
    line: int
    in_function: bool


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    return {module_name(path): path for package in PACKAGES
            for path in sorted((ROOT / package).rglob("*.py"))}


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """`from .x import y` in `module`, as an absolute module name."""
    if not node.level:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[:len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_in(module: str, source: str, known: set[str], *, is_package: bool = False) -> list[Import]:
    """Every import in `source` (the code of `module`); `from a import b` names `a.b` when that
    is a module of the project, else `a`."""
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.Import):
            found.extend(Import(module, alias.name, node.lineno, in_function) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, is_package, node)
            for alias in node.names:
                named = f"{base}.{alias.name}"
                found.append(Import(module, named if named in known else base, node.lineno,
                                    in_function))
        inside = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(ast.parse(source), False)
    return found


def _top(name: str) -> str:
    return name.split(".")[0]


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def problem(imp: Import) -> str | None:
    """What is wrong with this import, or None."""
    where = f"{imp.module} (line {imp.line}) imports {imp.imported}"
    if _within(imp.module, DOMAIN):
        if not (_top(imp.imported) in sys.stdlib_module_names or _within(imp.imported, DOMAIN)):
            return f"{where}: bot/domain imports only the standard library and bot/domain"
    forbidden = FORBIDDEN.get(_top(imp.module), set())
    if _top(imp.imported) in forbidden:
        return f"{where}: {_top(imp.module)}/ must not import {_top(imp.imported)}/ (upward)"
    if imp.in_function and _top(imp.imported) in PACKAGES \
            and (imp.module, imp.imported) not in ALLOWED_IN_FUNCTIONS:
        return f"{where} inside a function: import it at the top (a cycle means a layer is wrong)"
    return None


def problems_in(module: str, source: str, known: set[str] = frozenset(), *,
                is_package: bool = False) -> list[str]:
    found = (problem(imp) for imp in imports_in(module, source, set(known), is_package=is_package))
    return list(dict.fromkeys(p for p in found if p))  # `from a import b, c`: said once


# The project -------------------------------------------------------------------------------------

def test_imports_flow_one_way():
    modules = project_modules()
    known = set(modules)
    found = [p for name, path in modules.items()
             for p in problems_in(name, path.read_text(encoding="utf-8"), known,
                                  is_package=path.name == "__init__.py")]
    assert not found, "imports against the layers:\n" + "\n".join(found)


def test_every_allowed_function_level_import_exists_and_says_why():
    modules = project_modules()
    used = {(imp.module, imp.imported) for name, path in modules.items()
            for imp in imports_in(name, path.read_text(encoding="utf-8"), set(modules),
                                  is_package=path.name == "__init__.py")
            if imp.in_function}
    for (module, imported), why in ALLOWED_IN_FUNCTIONS.items():
        assert why.strip(), (module, imported)
        assert (module, imported) in used, f"{module} no longer imports {imported} in a function"


# The checker itself: it finds what it is meant to -------------------------------------------------

KNOWN = {"bot.services", "bot.services.card", "bot.domain", "bot.domain.checkin", "bot.line",
         "conversations.common", "web", "cli"}


@pytest.mark.parametrize("module, source, expected", [
    ("bot.services.premium", "from conversations.common import say\n",
     "bot.services.premium (line 1) imports conversations.common: bot/ must not import "
     "conversations/ (upward)"),
    ("bot.services.card", "import web\n", "bot/ must not import web/"),
    ("bot.identity.flow", "if True:\n    from cli import walkthrough\n", "bot/ must not import cli/"),
    ("conversations.card", "from handlers import on_message\n",
     "conversations/ must not import handlers/"),
    ("conversations.premium.steps", "def f():\n    from bot.services import card\n",
     "conversations.premium.steps (line 2) imports bot.services.card inside a function"),
    ("cli.scenario", "class R:\n    def run(self):\n        from cli import cli\n",
     "imports cli inside a function"),
    ("bot.domain.premium", "import sqlalchemy\n", "bot/domain imports only the standard library"),
    ("bot.domain.premium", "from bot.services import card\n", "imports bot.services.card: bot/domain"),
    ("bot.domain.premium", "from ..line import gateway\n", "imports bot.line: bot/domain"),
])
def test_the_checker_finds(module, source, expected):
    found = problems_in(module, source, KNOWN)
    assert len(found) == 1 and expected in found[0], found


@pytest.mark.parametrize("module, source", [
    ("bot.domain.premium", "from __future__ import annotations\nimport datetime\n"
                           "from bot.domain import checkin\nfrom . import checkin\n"),
    ("bot.services.card", "from bot.domain.checkin import Progress\nfrom sqlalchemy import select\n"),
    ("conversations.card", "from bot.services import card\n"),
    ("web", "from conversations.common import say\nfrom cli import walkthrough\n"),
    ("jobs.expiry", "def f():\n    import json\n"),  # the standard library may wait for its use
])
def test_the_checker_lets_pass(module, source):
    assert problems_in(module, source, KNOWN, is_package=module == "web") == []
