"""Check the import graph of ``mcp_orch`` (``make lint`` runs it, next to ``lint-imports``).

    .venv/bin/python scripts/check_imports.py [PACKAGE_DIR]     # default: ./mcp_orch

An import at module level (in ``try``/``except`` or in a class body too) is an edge of the
module-level graph; an import inside a function or method is function-local. Imports under
``if TYPE_CHECKING:`` never run: they are counted as type-only edges but cannot make a cycle
(``lint-imports`` keeps them from pointing up a layer). The check fails (exit 1) if

- the module-level graph of imports that run has a cycle (each one is printed, with the line of
  each import);
- there are ``MAX_LOCAL`` or more function-local imports of the package outside ``frontends/`` and
  the package's ``__init__.py``, or any of them has no comment on its line or the line above
  saying why it is local (``file:line`` of each is printed).
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
import tokenize
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

MAX_LOCAL = 10
DEFAULT_PACKAGE = Path(__file__).resolve().parents[1] / "mcp_orch"
PRAGMA = re.compile(r"#\s*(noqa|type:|pragma|fmt:|nosec)", re.IGNORECASE)


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str
    path: Path
    line: int
    local: bool  # inside a function or method
    type_only: bool  # under ``if TYPE_CHECKING:``


@dataclass
class Graph:
    modules: dict[str, Path] = field(default_factory=dict)
    imports: list[Import] = field(default_factory=list)

    def edges(self, *, type_only: bool = False) -> dict[str, dict[str, Import]]:
        """Module-level edges: importer -> imported -> the first import making the edge
        (imports that run; with ``type_only`` also those under ``if TYPE_CHECKING:``)."""
        out: dict[str, dict[str, Import]] = {name: {} for name in self.modules}
        for imp in self.imports:
            if imp.type_only and not type_only:
                continue
            if not imp.local and imp.imported != imp.importer:
                out[imp.importer].setdefault(imp.imported, imp)
        return out


def module_name(package: Path, path: Path) -> str:
    parts = [package.name, *path.relative_to(package).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(test: ast.expr) -> bool:
    name = test.attr if isinstance(test, ast.Attribute) else getattr(test, "id", None)
    return name == "TYPE_CHECKING"


class _Collector(ast.NodeVisitor):
    """Every import statement with whether it is function-local and whether it is type-only."""

    def __init__(self) -> None:
        self.found: list[tuple[ast.Import | ast.ImportFrom, bool, bool]] = []
        self.functions = 0
        self.type_checking = 0

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.functions += 1
        self.generic_visit(node)
        self.functions -= 1

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self.visit_FunctionDef(node)

    def visit_If(self, node: ast.If) -> None:
        if not _is_type_checking(node.test):
            self.generic_visit(node)
            return
        self.type_checking += 1
        for stmt in node.body:
            self.visit(stmt)
        self.type_checking -= 1
        for stmt in node.orelse:
            self.visit(stmt)

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        self.found.append((node, self.functions > 0, self.type_checking > 0))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.visit_Import(node)


def _targets(node: ast.Import | ast.ImportFrom, importer: str, graph: Graph) -> set[str]:
    """The package's modules an import names: ``from m import a`` names ``m.a`` if that is a
    module, else ``m``; ``import os`` names none."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:  # relative: `.` is the importer's package, `..` its parent, ...
            parts = importer.split(".")
            if graph.modules[importer].name != "__init__.py":
                parts.pop()
            anchor = ".".join(parts[: len(parts) - node.level + 1])
            base = f"{anchor}.{base}" if base else anchor
        names = [f"{base}.{alias.name}" for alias in node.names]
        names = [name if name in graph.modules else base for name in names]
    targets: set[str] = set()
    for name in names:
        while name and name not in graph.modules:  # `import pkg.missing` names pkg
            name = name.rpartition(".")[0]
        if name:
            targets.add(name)
    return targets


def build_graph(package: Path) -> Graph:
    graph = Graph()
    for path in sorted(package.rglob("*.py")):
        graph.modules[module_name(package, path)] = path
    for name, path in graph.modules.items():
        collector = _Collector()
        collector.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        for node, local, type_only in collector.found:
            for target in sorted(_targets(node, name, graph)):
                graph.imports.append(Import(name, target, path, node.lineno, local, type_only))
    return graph


def find_cycles(edges: dict[str, dict[str, Import]]) -> list[list[Import]]:
    """One shortest cycle through each module that is on a cycle, without repeats."""
    cycles: dict[frozenset[Import], list[Import]] = {}
    for start in sorted(edges):
        back: dict[str, Import] = {}
        queue = deque([start])
        while queue and start not in back:
            current = queue.popleft()
            for target in sorted(edges[current]):
                if target not in back:
                    back[target] = edges[current][target]
                    queue.append(target)
        if start in back:
            cycle = [back[start]]
            while cycle[0].importer != start:
                cycle.insert(0, back[cycle[0].importer])
            cycles.setdefault(frozenset(cycle), cycle)
    return list(cycles.values())


def explained_lines(path: Path) -> set[int]:
    """Lines an import there may stand on and count as explained: a line with a comment (not a
    bare pragma such as ``# noqa``), or the line after a line that is only such a comment."""
    lines: set[int] = set()
    with path.open(encoding="utf-8") as file:
        for tok in tokenize.generate_tokens(file.readline):
            if tok.type == tokenize.COMMENT and not PRAGMA.match(tok.string):
                lines.add(tok.start[0])
                if tok.line.lstrip().startswith("#"):
                    lines.add(tok.start[0] + 1)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", nargs="?", type=Path, default=DEFAULT_PACKAGE)
    package: Path = parser.parse_args(argv).package.resolve()
    graph = build_graph(package)
    edges = graph.edges()
    ok = True

    def where(imp: Import) -> str:
        return f"{imp.path.relative_to(package.parent)}:{imp.line}"

    cycles = find_cycles(edges)
    for cycle in cycles:
        ok = False
        chain = " -> ".join(
            f"{imp.importer} ({where(imp)}{', type-only' if imp.type_only else ''})"
            for imp in cycle
        )
        print(f"import cycle: {chain} -> {cycle[0].importer}")

    local = {  # one entry per import statement
        (imp.path, imp.line): imp
        for imp in graph.imports
        if imp.local
        and imp.path != package / "__init__.py"
        and not imp.path.is_relative_to(package / "frontends")
    }
    explained = {path: explained_lines(path) for path, _ in local}
    for (path, line), imp in sorted(local.items()):
        if line not in explained[path]:
            ok = False
            print(f"{where(imp)}: function-local import of {imp.imported} without a comment why")
    if len(local) >= MAX_LOCAL:
        ok = False
        print(f"{len(local)} function-local imports outside the front ends (must be < {MAX_LOCAL})")

    print(
        f"check_imports: {'ok' if ok else 'FAILED'}: {len(graph.modules)} modules, "
        f"{sum(map(len, edges.values()))} module-level edges, {len(cycles)} cycles, "
        f"{len(local)} function-local imports outside the front ends"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
