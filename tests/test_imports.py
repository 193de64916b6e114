"""The modules' imports point one way: no two modules of rag/ and ui/ need each other.

An import circle (the CLI importing the chat and the chat importing the CLI, the text parser
and the web-page reader importing each other) works only while every import of it stays
inside a function, and it hides which layer a piece of code belongs to. Imports inside
functions and under TYPE_CHECKING count here too.
"""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT


def modules() -> dict[str, Path]:
    found = {}
    for top in ("rag", "ui"):
        for file in (ROOT / top).rglob("*.py"):
            parts = file.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = file
    return found


def imports(file: Path, known: dict[str, Path]) -> set[str]:
    """The project modules `file` imports anywhere in it (`from rag.x import y` names rag.x.y or rag.x)."""
    found = set()
    for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Groups of modules that reach each other (strongly connected components of more than one)."""
    reach = {module: set() for module in graph}
    for module in graph:
        todo = list(graph[module])
        while todo:
            other = todo.pop()
            if other not in reach[module]:
                reach[module].add(other)
                todo.extend(graph.get(other, ()))
    groups = {frozenset(m for m in reach[module] if module in reach[m]) | {module} for module in graph}
    return sorted(sorted(group) for group in groups if len(group) > 1)


def test_circles_are_found():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_two_modules_import_each_other():
    known = modules()
    graph = {module: imports(file, known) - {module} for module, file in known.items()}
    assert "rag.hosts" in graph["ui.app"] and "rag.index.lines" in graph["rag.index.html_pages"]
    assert circles(graph) == [], "move what both modules need into a module below them both"
