"""The package is a stack of floors (../shared/DESIGN.md, "Layout and layers"): every import, at
module level, inside a function or for a type hint alike, goes to the same floor or one below, and
no imports go round in a cycle."""

import ast

import pytest

from .conftest import ROOT

FLOORS = {
    1: ["imaging", "tiling", "metrics", "reporting", "rain", "degrade", "lab.distributions", "lab.games", "weights", "catalog"],
    2: ["models", "data", "losses"],
    3: ["hub", "foreign", "training"],
    4: ["digits", "photos", "photo_models", "video", "compare", "finishing", "evaluation", "lab", "space", "recipes", "examples",
        "recognition"],
    5: ["__init__", "__main__", "ui"],
}
FLOOR = {f"ganapps.{name}" if name != "__init__" else "ganapps": floor for floor, names in FLOORS.items() for name in names}


def module_names() -> dict[str, object]:
    names = {}
    for path in (ROOT / "ganapps").rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


MODULES = module_names()


def imports(name: str) -> set[str]:
    """Every ganapps module that ``name`` imports, wherever the import statement sits."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                stem = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(stem + ([node.module] if node.module else []))
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:  # ganapps.models.toy.Config -> ganapps.models.toy
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def floor(name: str) -> int:
    """The floor of a module, or of the subpackage it is in (models, ui); the package's own floor is its __init__'s."""
    while name not in FLOOR:
        name = name.rpartition(".")[0]
        if name in ("", "ganapps"):  # a module no floor names
            raise KeyError(name)
    return FLOOR[name]


def test_every_module_has_a_floor():
    def placed(name):
        return any(name == m or (name.startswith(m + ".") and m != "ganapps") for m in FLOOR)

    assert [name for name in MODULES if not placed(name)] == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_go_only_down_or_sideways(name):
    upward = sorted(target for target in imports(name) if floor(target) > floor(name))
    assert upward == [], f"{name} (floor {floor(name)}) imports from above: {upward}"


def test_no_import_cycles():
    graph = {name: imports(name) for name in MODULES}
    done, path = set(), []

    def visit(name):
        if name in path:
            raise AssertionError("import cycle: " + " -> ".join(path[path.index(name):] + [name]))
        if name in done:
            return
        path.append(name)
        for target in sorted(graph[name]):
            visit(target)
        path.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)


def used_names() -> dict[str, set[str]]:
    """For each ganapps module, the names that other modules of the package take from it."""
    used: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        tree = ast.parse(path.read_text())
        aliases = {}  # local name -> module, for `from . import hub` / `from .models import toy`
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    stem = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(stem + ([node.module] if node.module else []))
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    if full in MODULES:
                        aliases[alias.asname or alias.name] = full
                    elif base in MODULES and base != name:
                        used.setdefault(base, set()).add(alias.name)
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
                used.setdefault(aliases[node.value.id], set()).add(node.attr)
    return used


def declares_all(path) -> bool:
    return any(isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets)
               for node in ast.parse(path.read_text()).body)


@pytest.mark.parametrize("name", sorted(n for n, p in MODULES.items() if declares_all(p)))
def test_public_names_are_what_the_package_uses(name):
    """``__all__`` lists each name that other modules use (not underscored ones), and nothing that is not there."""
    import importlib

    module = importlib.import_module(name)
    public = set(module.__all__)
    assert [n for n in public if not hasattr(module, n)] == []
    missing = sorted(n for n in used_names().get(name, set()) if not n.startswith("_") and n not in public)
    assert missing == [], f"{name} is used for {missing}, which its __all__ does not list"
