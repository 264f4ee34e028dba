"""The rooms of the code stay as README's "Architecture" draws them.

Read from the source with `ast` (every import, including those inside functions), so the
check needs no import of the code and sees what a reader sees:
- each module belongs to one component, and a component imports only those below it;
- no two modules import each other, directly or around a circle;
- models, services, selectors and the rules never import the modules that face the outside
  (views, forms, API, admin, tasks, URL confs, webhooks, middleware, app configs, management
  commands);
- the pure rule modules import neither Django nor any project module but each other.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIPPED_DIRS = {"migrations", "tests", "bench", ".venv", "node_modules", "static", "templates"}

TENANCY = "ppc_dashboard.tenancy"
# What every app may use: the Celery app (task_enqueue), the raw-SQL helpers, CSV cells, the
# Redis cache backend.
INFRASTRUCTURE = "ppc_dashboard.infrastructure"
# settings, URL confs, WSGI/ASGI: the composition root, which wires everything together.
ROOT_PACKAGE = "ppc_dashboard"

# Component -> the components it may import (besides itself). Lower rooms never import
# higher ones: kpis reads calls, publishers and routing; tenancy imports no app.
ALLOWED: dict[str, set[str]] = {
    INFRASTRUCTURE: set(),
    TENANCY: set(),
    "publishers": {INFRASTRUCTURE, TENANCY},
    "routing": {INFRASTRUCTURE, TENANCY, "publishers"},
    "calls": {INFRASTRUCTURE, TENANCY, "publishers", "routing"},
    "kpis": {INFRASTRUCTURE, TENANCY, "publishers", "routing", "calls"},
    "kpis.pages": {INFRASTRUCTURE, TENANCY, "publishers", "routing", "calls", "kpis"},
    "kpis.reports": {
        INFRASTRUCTURE,
        TENANCY,
        "publishers",
        "routing",
        "calls",
        "kpis",
        "kpis.pages",
    },
    # Alerts read the KPI engine's rollups and verdicts; nothing below imports alerts.
    "alerts": {INFRASTRUCTURE, TENANCY, "publishers", "routing", "calls", "kpis"},
    "demo": {INFRASTRUCTURE, TENANCY, "publishers", "routing", "calls", "kpis", "alerts"},
    "ops": {INFRASTRUCTURE, TENANCY, "publishers", "routing", "calls", "kpis"},
}
ALLOWED[ROOT_PACKAGE] = set(ALLOWED)

COMPONENT_OF_PREFIX = {
    "ppc_dashboard.celery": INFRASTRUCTURE,
    "ppc_dashboard.db": INFRASTRUCTURE,
    "ppc_dashboard.csv_cells": INFRASTRUCTURE,
    "ppc_dashboard.redis_cache": INFRASTRUCTURE,
    "ppc_dashboard.content_security_policy": INFRASTRUCTURE,
    TENANCY: TENANCY,
    "kpis.pages": "kpis.pages",
    "kpis.reports": "kpis.reports",
}

# Modules that face the outside: nothing below them imports them.
OUTWARD_NAMES = {
    "views",
    "settings_views",
    "forms",
    "api",
    "api_urls",
    "urls",
    "settings_urls",
    "admin",
    "tasks",
    "webhooks",
    "middleware",
    "apps",
    "commands",
}
# Pure rules: KPI math, verdicts, business hours, routing decisions, coverage and the what-if
# replay, webhook signing and follow-up rules, tested without a database.
PURE_MODULES = {
    "kpis.formatting",
    "kpis.metrics",
    "kpis.verdicts",
    "routing.business_hours",
    "routing.rules",
    "alerts.rules",
    "routing.coverage",
    "routing.whatif",
    "alerts.webhook_signing",
    "alerts.webhook_targets",
    "alerts.followup_rules",
}


@cache
def project_modules() -> dict[str, Path]:
    modules = {}
    for path in ROOT.rglob("*.py"):
        relative = path.relative_to(ROOT)
        if SKIPPED_DIRS & set(relative.parts) or len(relative.parts) == 1:
            continue  # manage.py and other top-level scripts are not part of an app
        parts = list(relative.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _imported_names(module: str, path: Path) -> set[str]:
    """Every module name an import statement of this file names (absolute)."""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            names.add(source)
            # `from package import module` names a module too.
            names.update(f"{source}.{alias.name}" for alias in node.names)
    return names


@cache
def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (the nearest existing module of each name)."""
    modules = project_modules()
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        targets = set()
        for name in _imported_names(module, path):
            parts = name.split(".")
            while parts and ".".join(parts) not in modules:
                parts.pop()
            target = ".".join(parts)
            if target and target != module:
                targets.add(target)
        graph[module] = targets
    return graph


def component_of(module: str) -> str:
    for prefix, component in sorted(COMPONENT_OF_PREFIX.items(), key=lambda kv: -len(kv[0])):
        if module == prefix or module.startswith(prefix + "."):
            return component
    top = module.split(".")[0]
    if top not in ALLOWED:
        raise AssertionError(
            f"{module} is in no component: add its app to ALLOWED in tests/test_layout.py "
            "and to README's Architecture section"
        )
    return top


def _is_outward(module: str) -> bool:
    return bool(OUTWARD_NAMES & set(module.split(".")))


def test_the_project_modules_are_found():
    modules = project_modules()
    assert {"calls.models", "kpis.verdicts", "kpis.pages.views", TENANCY + ".models"} <= set(
        modules
    )
    assert "kpis.selectors" in import_graph()["kpis.pages.page_data"]


def test_every_module_belongs_to_a_component():
    for module in project_modules():
        component_of(module)


def test_components_import_only_the_rooms_below_them():
    wrong = []
    for module, targets in sorted(import_graph().items()):
        source = component_of(module)
        for target in sorted(targets):
            destination = component_of(target)
            if destination != source and destination not in ALLOWED[source]:
                wrong.append(f"{module} ({source}) imports {target} ({destination})")
    assert wrong == []


def test_tenancy_imports_no_app():
    apps = {component for component in ALLOWED if component not in (TENANCY, INFRASTRUCTURE)}
    wrong = [
        f"{module} imports {target}"
        for module, targets in import_graph().items()
        if component_of(module) == TENANCY
        for target in targets
        if component_of(target) in apps
    ]
    assert wrong == []


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            members = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                members.append(member)
                if member == node:
                    break
            if len(members) > 1:
                found.append(sorted(members))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circles():
    assert _circles(import_graph()) == []


def test_the_circle_finder_finds_circles():
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _circles({"a": {"b"}, "b": set()}) == []


def test_only_outward_modules_import_outward_modules():
    # Models, services, selectors and the rules under them never reach up into a view.
    wrong = [
        f"{module} imports {target}"
        for module, targets in sorted(import_graph().items())
        if not _is_outward(module)
        for target in sorted(targets)
        if _is_outward(target)
    ]
    assert wrong == []


@pytest.mark.parametrize("module", sorted(PURE_MODULES))
def test_pure_rule_modules_import_no_django_and_no_app(module):
    names = _imported_names(module, project_modules()[module])
    project = set(project_modules())
    wrong = sorted(
        name
        for name in names
        if name.split(".")[0] in {"django", "rest_framework", "celery"}
        or (name in project and name not in PURE_MODULES)
    )
    assert wrong == []
