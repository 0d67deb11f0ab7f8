"""The project's own reference documents: every section the code cites exists.

qbhw cites ``docs/physics.md`` and ``docs/design.md`` by section number ("docs/physics.md 3.2", "docs/physics.md
section 4.1", "physics.md §1.3", "docs/physics.md 3.2-3.4"). These tests collect every such citation in the package,
the tests, the benchmarks, the notebooks, the documents themselves and the README, and fail if a cited section has
no heading of that number (``## 3.`` or ``### 3.2 ...``) in the document. They also pin the section skeleton of the
physics reference (§0-§6 with their subsections), so a section the code will cite cannot silently disappear.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = {name: ROOT / "docs" / name for name in ("physics.md", "design.md")}
#: folders (and top-level files) whose citations must resolve
SCANNED = ("qbhw", "tests", "benchmarks", "notebooks", "docs", "README.md")
SUFFIXES = (".py", ".ipynb", ".md")
THIS_FILE = Path(__file__).resolve()

_NUMBER = r"\d+(?:\.\d+)*"
#: "docs/physics.md 3.2", "physics.md section 4", "physics.md §1.3", "docs/physics.md 3.2-3.4"
CITATION = re.compile(
    rf"(?<![\w/])(?:docs/)?(physics|design)\.md(?:\s+section\s+|\s*§\s*|\s+)({_NUMBER})(?:\s*[-–]\s*({_NUMBER}))?"
)
#: "docs/physics.md set M1", "docs/physics.md 4.3, set M1"
NAMED_SET = re.compile(r"(?<![\w/])(?:docs/)?physics\.md[\s,\d.]*set (M\d+)")
HEADING = re.compile(rf"^#{{2,6}}\s+({_NUMBER})\.?\s")

#: the skeleton of the physics reference (docs brief: keep §0-§6 with their subsections)
PHYSICS_SKELETON = (
    "0",
    *("1", "1.1", "1.2", "1.3", "1.4"),
    *("2", "2.1", "2.2", "2.3"),
    *("3", "3.1", "3.2", "3.3", "3.4"),
    *("4", "4.1", "4.2", "4.3", "4.4"),
    "5",
    *("6", "6.1", "6.2", "6.3", "6.4"),
)


def headings(text: str) -> list[str]:
    """Section numbers of the markdown headings, in document order."""
    return [m.group(1) for line in text.splitlines() if (m := HEADING.match(line))]


def citations(text: str) -> list[tuple[str, str]]:
    """(document, section) for every section cited in ``text``; a range cites both ends."""
    found = []
    for m in CITATION.finditer(text):
        doc = f"{m.group(1)}.md"
        found.append((doc, m.group(2)))
        if m.group(3):
            found.append((doc, m.group(3)))
    return found


def _sources() -> list[Path]:
    files: list[Path] = []
    for entry in SCANNED:
        path = ROOT / entry
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file())
    return [p for p in files if p.resolve() != THIS_FILE]


def _all_citations() -> dict[tuple[str, str], list[str]]:
    """(document, section) -> the files citing it."""
    cited: dict[tuple[str, str], list[str]] = {}
    for path in _sources():
        for key in citations(path.read_text(encoding="utf-8")):
            cited.setdefault(key, []).append(str(path.relative_to(ROOT)))
    return cited


CITED = _all_citations()


def test_parsers_on_known_forms() -> None:
    # built from parts so that this file itself cites nothing
    doc = "docs/" + "physics.md"
    text = (
        f"see {doc} section 4.2 and {doc} 3.2-3.4; {doc} 0: thermal; ({doc} section 4. A cavity) "
        f"physics.md §1.3, design.md §3, docs/design.md section 2; {doc} writes q = 1 - P; {doc}, 11 digits"
    )
    assert citations(text) == [
        ("physics.md", "4.2"),
        ("physics.md", "3.2"),
        ("physics.md", "3.4"),
        ("physics.md", "0"),
        ("physics.md", "4"),
        ("physics.md", "1.3"),
        ("design.md", "3"),
        ("design.md", "2"),
    ]
    assert NAMED_SET.findall(f"{doc} set M1; {doc} 4.3, set M1") == ["M1", "M1"]
    assert headings("# Title\n## 0. Conventions\n### 1.2 Exact results\n#### 6.4 Cavity\n## References\n") == [
        "0",
        "1.2",
        "6.4",
    ]


def test_the_scan_finds_the_citations() -> None:
    # a broken scan would make the next test pass vacuously: the code cites physics.md ~100 times
    physics = [k for k in CITED if k[0] == "physics.md"]
    design = [k for k in CITED if k[0] == "design.md"]
    assert sum(len(CITED[k]) for k in physics) >= 50
    assert len(physics) >= 15 and len(design) >= 2


@pytest.mark.parametrize("doc", sorted(DOCS))
def test_every_cited_section_has_a_heading(doc: str) -> None:
    present = set(headings(DOCS[doc].read_text(encoding="utf-8")))
    missing = {section: files for (d, section), files in CITED.items() if d == doc and section not in present}
    assert not missing, f"sections cited but not in docs/{doc}: {missing}"


def test_named_reference_sets_exist() -> None:
    text = DOCS["physics.md"].read_text(encoding="utf-8")
    named = {m for path in _sources() for m in NAMED_SET.findall(path.read_text(encoding="utf-8"))}
    assert named, "no named reference set cited (expected set M1)"
    for name in named:
        assert re.search(rf"\bSet {name}\b", text, flags=re.IGNORECASE), f"set {name} is not defined"


@pytest.mark.parametrize("doc", sorted(DOCS))
def test_sections_are_unique_ordered_and_nested(doc: str) -> None:
    numbers = headings(DOCS[doc].read_text(encoding="utf-8"))
    assert numbers, f"docs/{doc} has no numbered sections"
    assert len(numbers) == len(set(numbers)), f"duplicate section numbers in docs/{doc}"
    keys = [tuple(int(p) for p in n.split(".")) for n in numbers]
    assert keys == sorted(keys), f"sections of docs/{doc} are out of order: {numbers}"
    for n in numbers:
        parent = n.rpartition(".")[0]
        assert not parent or parent in numbers, f"docs/{doc}: section {n} has no parent section {parent}"


def test_physics_reference_keeps_its_skeleton() -> None:
    present = set(headings(DOCS["physics.md"].read_text(encoding="utf-8")))
    assert set(PHYSICS_SKELETON) <= present, sorted(set(PHYSICS_SKELETON) - present)
