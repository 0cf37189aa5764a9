"""The code's shape: imports point one way and never go round in a circle."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("bot", "handlers", "storage")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports() -> dict[str, set[str]]:
    """Each project module and the project modules it imports (anywhere in its body)."""
    files = {
        _module_name(path): path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    }
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                    base = f"{base}.{node.module}" if node.module else base
                # `from pkg import mod` imports a module; `from mod import name` the module.
                targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
            else:
                continue
            for target in targets:
                if target in files and target != name:
                    graph[name].add(target)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


class TestImports:
    def test_no_import_cycle(self):
        """No two project modules import each other, directly or through others."""
        assert _cycles(_imports()) == []

    def test_dependencies_point_one_way(self):
        """storage imports nothing of bot or handlers; the domain never imports handlers."""
        graph = _imports()
        upward = sorted(
            (name, target)
            for name, targets in graph.items()
            for target in targets
            if (name.startswith("storage") and target.startswith(("bot", "handlers")))
            or (
                name.startswith("bot")
                and target.startswith("handlers")
                and name != "bot.runtime.app"
            )
        )
        assert upward == []

    def test_the_clock_starts_without_bolt(self):
        """What `symmetry clock`, `tick` and `worker` load (the command line, the clock,
        the Slack clients) brings in neither Bolt nor the listeners: only `serve` and
        `socket` need them, and loading them was a tenth of an empty tick's CPU."""
        probe = (
            "import sys\n"
            "import bot.runtime.cli, bot.runtime.clients, bot.runtime.clock\n"
            "import bot.runtime.operations\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('slack_bolt', 'handlers')))"
        )
        done = subprocess.run(
            [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == "[]"

    def test_the_checker_sees_a_cycle(self):
        """The cycle finder is not blind: a made-up pair importing each other is reported."""
        assert _cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]
