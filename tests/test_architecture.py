"""The package's layers (docs/architecture.md): no import cycles, arrows point down, the analytic check stays independent."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
# low to high; a module may import its own layer and the layers below it
LAYERS = {"util": 0, "model": 0, "budget": 1, "analytic": 1, "engines": 2, "io": 3, "analysis": 4, "report": 5, "cli": 6}


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every sim module a module imports (at module level or inside functions)."""
    module = _module(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("sim")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            if name.startswith("sim"):
                found.add(name)
    return found


GRAPH = {_module(p): _imports(p) for p in (ROOT / "sim").rglob("*.py")}


def _layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 1 else None


def test_no_import_cycles():
    modules = set(GRAPH)

    def resolve(name: str) -> str | None:  # "from sim.model import x" names the package
        return name if name in modules else None

    edges = {m: {r for n in deps if (r := resolve(n)) and r != m} for m, deps in GRAPH.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> None:
        state[m] = 1
        stack.append(m)
        for n in sorted(edges[m]):
            if state.get(n) == 1:
                pytest.fail("import cycle: " + " -> ".join(stack[stack.index(n):] + [n]))
            if n not in state:
                visit(n)
        stack.pop()
        state[m] = 2

    for m in sorted(edges):
        if m not in state:
            visit(m)


def test_arrows_point_down():
    wrong = [
        f"{m} imports {n}"
        for m, deps in GRAPH.items()
        for n in deps
        if _layer(m) is not None and _layer(n) is not None and _layer(n) > _layer(m)
    ]
    assert not wrong, "\n".join(sorted(wrong))


def test_the_analytic_model_reads_the_scenario_not_the_compiled_model():
    deps = {n for m, d in GRAPH.items() if m.startswith("sim.analytic") for n in d}
    assert not {n for n in deps if n.startswith(("sim.model.compiled", "sim.engines", "sim.budget"))}, deps


def test_no_simpy_private_attributes():
    private = re.compile(r"\benv\._|\b_now\b|\b_eid\b|\b_queue\b.*simpy")
    hits = [f"{p.relative_to(ROOT)}:{i}" for p in (ROOT / "sim").rglob("*.py")
            for i, line in enumerate(p.read_text().splitlines(), 1) if private.search(line)]  # fmt: skip
    assert not hits, hits


def test_compiled_model_holds_no_scenario():
    from sim import compile_scenario, load_scenario

    assert not hasattr(compile_scenario(load_scenario(ROOT / "tests" / "data" / "three_states.toml")), "scenario")
