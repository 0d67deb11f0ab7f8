"""The direction of imports (docs/design.md section 2.1), read from the source with ``ast``.

Layers, bottom to top: the root helpers (errors, _validate, _files, ...) -> physics -> models -> hardware ->
mapping | pulse -> tomography -> experiments -> report -> cli. A module imports only from its own package or from a
layer below; ``mapping`` and ``pulse`` are siblings on one floor and do not import each other; no module imports
another package's private module (``qbhw.x._y`` from outside ``qbhw.x``). Imports inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "qbhw"
LAYER = {
    "physics": 1,
    "models": 2,
    "hardware": 3,
    "mapping": 4,
    "pulse": 4,
    "tomography": 5,
    "experiments": 6,
    "report": 7,
    "cli": 8,
}


def _unit(module: str) -> str:
    """'qbhw.models._dicke' -> 'models'; 'qbhw.errors' -> 'errors'; 'qbhw' -> ''."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _layer(unit: str) -> int:
    if unit in LAYER:
        return LAYER[unit]
    return 0  # the root: qbhw/__init__ (the version only) and errors, _validate, _files, _json, _threads, ...


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.append((".".join(parts), path))
    return out


def _imports(module: str, path: Path) -> list[tuple[int, str]]:
    """(line, imported qbhw module) for every import in the file, relative imports resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "qbhw"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "qbhw":
                continue
            # 'from qbhw.x import y' may import a submodule y: count it as 'qbhw.x.y' when that file exists
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                rel = Path(*sub.split("."))
                exists = (PACKAGE.parent / rel).with_suffix(".py").exists() or (PACKAGE.parent / rel).is_dir()
                found.append((node.lineno, sub if exists else target))
    return found


def _check(module: str, path: Path) -> list[str]:
    """The violations of one file."""
    bad = []
    unit = _unit(module)
    for line, target in _imports(module, path):
        t_unit = _unit(target)
        where = f"{module}:{line} imports {target}"
        if t_unit != unit and _layer(t_unit) > _layer(unit):
            bad.append(f"{where} (upward: {unit} -> {t_unit})")
        elif t_unit != unit and _layer(t_unit) == _layer(unit) and t_unit in LAYER:
            bad.append(f"{where} (sideways: {unit} -> {t_unit})")
        private = [p for p in target.split(".")[2:] if p.startswith("_")]
        if private and t_unit != unit:
            bad.append(f"{where} (private module of another package)")
    return bad


def test_the_scan_sees_the_imports_it_checks():
    """A scan that finds nothing would pass vacuously: the pipeline's imports must be seen, with their layers."""
    pipeline = dict(_modules())["qbhw.experiments.pipeline"]
    targets = {t for _, t in _imports("qbhw.experiments.pipeline", pipeline)}
    assert any(t.startswith("qbhw.mapping") for t in targets), targets
    assert any(t.startswith("qbhw.tomography") for t in targets), targets
    assert _layer("experiments") > _layer("tomography") > _layer("pulse") == _layer("mapping") > _layer("hardware")


@pytest.mark.parametrize(
    ("planted", "kind"),
    [("qbhw.report", "upward"), ("qbhw.hardware._checks", "private"), ("qbhw.mapping", "sideways")],
)
def test_the_check_catches_a_violation(tmp_path, planted, kind):
    """An upward, a private and a sideways import planted in a copy of a module are each reported."""
    host = {"upward": "models/charger.py", "private": "tomography/_fit.py", "sideways": "pulse/model.py"}[kind]
    module = "qbhw." + host.removesuffix(".py").replace("/", ".")
    copy = tmp_path / Path(host).name
    copy.write_text((PACKAGE / host).read_text() + f"\n\ndef _planted():\n    import {planted}\n")
    assert not _check(module, PACKAGE / host)
    found = _check(module, copy)
    assert len(found) == 1 and f"({kind}" in found[0], found


def test_imports_go_one_way_and_no_private_module_of_another_package():
    bad = [v for module, path in _modules() for v in _check(module, path)]
    assert not bad, "\n".join(bad)
