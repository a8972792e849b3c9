"""The rule modules stay pure: the standard library only, never Django or the apps."""

import ast
import sys
from pathlib import Path

import pytest

HEALTH = Path(__file__).resolve().parents[2] / "health"

# What each pure module may import besides the standard library.
ALLOWED_PROJECT_IMPORTS = {
    "rating.py": set(),
    "eligibility.py": {"health.rating"},
    "forecast.py": {"health.rating", "health.eligibility"},
}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, relative imports resolved against the health package."""
    modules = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            modules.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                # Inside health/, "from .rating import x" is health.rating; ".." leaves the app.
                package = "health" if node.level == 1 else ""
                modules.add(".".join(part for part in (package, node.module) if part))
            else:
                modules.add(node.module or "")
    return modules


def is_stdlib(module: str) -> bool:
    return module.split(".")[0] in sys.stdlib_module_names


@pytest.mark.parametrize("filename", sorted(ALLOWED_PROJECT_IMPORTS))
def test_rule_module_imports_only_the_standard_library(filename: str) -> None:
    imports = imported_modules(HEALTH / filename)
    assert imports, "the parser found no imports at all"
    forbidden = {
        module
        for module in imports
        if not is_stdlib(module) and module not in ALLOWED_PROJECT_IMPORTS[filename]
    }
    assert not forbidden, f"{filename} imports {sorted(forbidden)}"


@pytest.mark.parametrize("filename", sorted(ALLOWED_PROJECT_IMPORTS))
def test_rule_module_never_imports_django(filename: str) -> None:
    imports = imported_modules(HEALTH / filename)
    assert not any(module.split(".")[0] == "django" for module in imports)


def test_rule_modules_do_not_import_dynamically() -> None:
    for filename in ALLOWED_PROJECT_IMPORTS:
        tree = ast.parse((HEALTH / filename).read_text())
        names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        assert not names & {"__import__", "importlib"}, filename
