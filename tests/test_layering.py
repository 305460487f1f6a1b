"""The layering of docs/architecture.md, read from the source: `core` is the floor and
imports no app; what composes the whole (`leadflow.server`, the CLI, settings, the URL
conf) stands above the apps; and no two apps import each other, directly or around a
loop. Imports inside functions count: a late import hides a cycle, it does not remove it.
Imports under `if TYPE_CHECKING:` do not (they never run)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "leadflow"
# Above the apps: they may import any app, and no app may import them.
COMPOSITION = {"server", "cli", "settings", "urls", "wsgi", "config"}
NOT_CODE = {"locale", "templates", "__pycache__"}


def _apps() -> set[str]:
    return {p.name for p in PACKAGE.iterdir()
            if p.is_dir() and (p / "__init__.py").exists() and p.name not in COMPOSITION
            and p.name not in NOT_CODE}


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            hidden.update(id(n) for n in ast.walk(node))
    return hidden


def imports_by_app() -> dict[str, dict[str, set[str]]]:
    """app -> {imported leadflow part -> files of the app that import it}; tests and
    migrations left out (tests compose on purpose; migrations are frozen history)."""
    apps = _apps()
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).parts
        if parts[0] not in apps or "tests" in parts or "migrations" in parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        hidden = _type_checking_nodes(tree)
        for node in ast.walk(tree):
            if id(node) in hidden:
                continue
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                bits = name.split(".")
                if bits[0] == "leadflow" and len(bits) > 1 and bits[1] != parts[0]:
                    found[parts[0]][bits[1]].add("/".join(parts))
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one app (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_core_imports_no_app():
    found = imports_by_app().get("core", {})
    assert not found, f"core is the floor and imports no app: {dict(found)}"


def test_no_app_imports_what_composes_the_whole():
    offenders = {app: {part: files for part, files in parts.items() if part in COMPOSITION}
                 for app, parts in imports_by_app().items()}
    assert not {a: o for a, o in offenders.items() if o}


def test_no_import_cycle_between_apps():
    apps = _apps()
    graph = {app: {part for part in parts if part in apps}
             for app, parts in imports_by_app().items()}
    assert _cycles(graph) == []


def test_webhooks_stand_after_campaigns():
    """webhooks reads campaigns (its step kind) and below; only the apps after it in
    docs/architecture.md's order (imports, analytics) may import it."""
    found = imports_by_app()
    above = {"imports", "analytics"}
    assert not set(found.get("webhooks", {})) & above
    assert {app for app, parts in found.items() if "webhooks" in parts} <= above
