"""The import rules of the house (issue 12), checked on the source with `ast`:

(a) the kernel imports no feature and not the HTTP platform;
(b) the HTTP platform (agent_api/) and the tables (db/) import no feature;
(c) no product module imports the development tooling (devtools/);
(d) no import cycles between top-level packages (KNOWN_CYCLE_EDGES lists exceptions: none).

Every import counts, also one inside a function. For (d) an import under
`if TYPE_CHECKING:` does not count (it never runs), and `hotline.services` (the Services
every feature receives) is its own node apart from the composition root (`hotline`), which
imports every feature by design.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FEATURES = frozenset(
    {
        "ivr",
        "campaigns",
        "cti",
        "routing",
        "recordings",
        "tickets",
        "customers",
        "supervisor",
        "reports",
        "desk",
        "knowledge",
        "followups",
        "integrations",
        "ops",
        "callcontrol",
        "qa",
        "admin",
        "privacy",
    }
)
SHARED = frozenset({"kernel", "db", "agent_api", "hotline"})  # hotline: the composition root
PRODUCT = FEATURES | SHARED
TOOLING = frozenset({"devtools"})

# kernel -> feature imports still to remove, with the reason they exist.
# Imports that break a rule today, each to be removed by the work named. None left.
KNOWN_KERNEL_IMPORTS: frozenset[tuple[str, str]] = frozenset()
# Package edges that still close a cycle; the cycle check leaves them out of the graph.
# None left: nothing may close one.
KNOWN_CYCLE_EDGES: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # the imported module (for `from x import y`: x.y when x.y is a module, else x)
    type_checking: bool


def _modules() -> Iterator[tuple[str, Path]]:
    for package in sorted(PRODUCT | TOOLING):
        folder = ROOT / package
        if not folder.is_dir():
            continue  # a feature not created yet
        for path in sorted(folder.rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            yield ".".join(parts), path


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports_of(module: str, path: Path) -> Iterator[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"

    def visit(node: ast.AST, guarded: bool) -> Iterator[Import]:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                yield from visit(child, True)
            for child in node.orelse:
                yield from visit(child, guarded)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(module, alias.name, guarded)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                yield Import(module, f"{base}.{alias.name}", guarded)
        for inner in ast.iter_child_nodes(node):
            yield from visit(inner, guarded)

    yield from visit(tree, False)


def _all_imports() -> list[Import]:
    return [imp for module, path in _modules() for imp in _imports_of(module, path)]


IMPORTS = _all_imports()


def _top(name: str) -> str:
    return name.split(".")[0]


def _node(name: str) -> str:
    """Graph node of a module: its top-level package; hotline.services on its own; the
    kernel and the tables are one layer (ARCHITECTURE.md: the kernel writes audit rows
    into db's table, db's calls table uses the kernel's call enums)."""
    if name.startswith("hotline.services"):
        return "hotline.services"
    top = _top(name)
    return "kernel+db" if top in ("kernel", "db") else top


def _found(importer: str, targets: frozenset[str]) -> list[str]:
    return sorted(
        f"{i.module} imports {i.target}"
        for i in IMPORTS
        if _top(i.module) == importer and _top(i.target) in targets
    )


def test_the_rules_see_every_product_package() -> None:
    seen = {_top(i.module) for i in IMPORTS}
    assert {"kernel", "agent_api", "desk", "hotline", "routing", "tickets"} <= seen


def test_given_the_kernel_then_it_imports_no_feature_and_not_the_http_platform() -> None:
    found = [
        f"{i.module} imports {i.target}"
        for i in IMPORTS
        if _top(i.module) == "kernel"
        and _top(i.target) in FEATURES | {"agent_api", "hotline"}
        and not any(i.module == m and i.target.startswith(t) for m, t in KNOWN_KERNEL_IMPORTS)
    ]
    assert found == []


def test_given_the_tables_then_they_import_no_feature() -> None:
    assert _found("db", FEATURES | {"agent_api", "hotline"}) == []


def test_given_the_http_platform_then_it_imports_no_feature() -> None:
    assert _found("agent_api", FEATURES) == []


@pytest.mark.parametrize("package", sorted(PRODUCT))
def test_given_a_product_package_then_it_never_imports_the_dev_tooling(package: str) -> None:
    assert _found(package, TOOLING) == []


def _cycles(edges: dict[str, set[str]]) -> set[tuple[str, ...]]:
    """The strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[tuple[str, ...]] = set()

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                connect(w)
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
                found.add(tuple(sorted(component)))

    for v in sorted(edges):
        if v not in index:
            connect(v)
    return found


def test_given_the_top_level_packages_then_they_import_each_other_without_cycles() -> None:
    edges: dict[str, set[str]] = defaultdict(set)
    for i in IMPORTS:
        if i.type_checking or _top(i.target) not in PRODUCT | TOOLING:
            continue
        a, b = _node(i.module), _node(i.target)
        if a != b and (a, b) not in KNOWN_CYCLE_EDGES:
            edges[a].add(b)
    assert _cycles(edges) == set()


def test_given_a_cycle_in_a_graph_then_the_checker_finds_it() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == {("a", "b", "c")}
