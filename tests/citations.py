"""Checks of ``source`` texts against the bibliography in ``docs/sources.md``.

Each check takes texts and returns a list of problems (empty when all is well), so the tests can
run it on the project's files and on planted bad examples alike. The citation form is
``[key, locator]`` or ``[key, locator; lines a-b, c]`` (docs/sources.md, "Citing").
"""

from __future__ import annotations

import csv
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).parents[1]
BIBLIOGRAPHY = ROOT / "docs" / "sources.md"
SEEDS_ENV = "CASELOAD_SIM_SEEDS"

KEY = r"[a-z0-9]+(?:-[a-z0-9]+)*"
LINES = r"\d+(?:-\d+)?(?:, \d+(?:-\d+)?)*"
CITATION = re.compile(rf"\[({KEY}), ([^\];\[]+?)(?:; lines? ({LINES}))?\]")
FORMS = ("assumption", "derived", "calibrated")
FORBIDDEN = {
    "a seed file name": re.compile(r"\d{3}_[0-9a-f]{16}\.txt"),
    "a seed file line reference (00N:line)": re.compile(r"\b00\d:\d"),
    "a path outside the repository (../shared)": re.compile(r"\.\./shared|shared/seeds"),
    "the domain brief (DOMAIN.md)": re.compile(r"DOMAIN\.md"),
    "a project note (notes/)": re.compile(r"\bnotes/"),
}
SECTION_NAME = re.compile(  # the names used in the Sections table of docs/sources.md
    r"§\d+(?:\.\d+)*|\bpart [IVX]+\b|\bannex \d+\b|\bch\. \d+\b|\bgoal \d+(?:\.\d+)*|\btable \d+\b|\bintroduction\b"
)


@dataclass(frozen=True)
class Citation:
    key: str
    locator: str
    ranges: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Bibliography:
    keys: frozenset[str]
    seed_of: dict[str, str]  # key -> seed file name
    sections: dict[str, dict[str, tuple[int, int]]]  # key -> section name -> (first, last) line


# -- reading -----------------------------------------------------------------------------------
def _table_rows(text: str, first_header: str) -> list[dict[str, str]]:
    """The rows of the first Markdown table in ``text`` whose header row starts with ``first_header``."""
    rows: list[dict[str, str]] = []
    header: list[str] | None = None
    for line in text.splitlines():
        if not line.startswith("|"):
            if header is not None:
                break
            continue
        cells = [c.strip().strip("`").strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells if cells[0] == first_header else None
        elif not set("".join(cells)) <= set("-: "):
            rows.append(dict(zip(header, cells)))
    return rows


def parse_bibliography(text: str) -> Bibliography:
    """Keys, seed files and seed sections from the text of docs/sources.md."""
    entries = _table_rows(text, "key")
    keys = [e["key"] for e in entries if "title" in e]
    seed_of = {e["key"]: e["seed"] for e in entries if "title" in e and e.get("seed", "–") not in ("", "–", "-")}
    sections: dict[str, dict[str, tuple[int, int]]] = {}
    after = text.split("## Sections", 1)[1] if "## Sections" in text else ""
    for row in _table_rows(after, "key"):
        first, last = (int(n) for n in row["lines"].split("-"))
        sections.setdefault(row["key"], {})[row["section"]] = (first, last)
    return Bibliography(frozenset(keys), seed_of, sections)


def load_bibliography() -> Bibliography:
    return parse_bibliography(BIBLIOGRAPHY.read_text())


def parse_ranges(text: str | None) -> tuple[tuple[int, int], ...]:
    if not text:
        return ()
    out = []
    for part in text.split(", "):
        a, _, b = part.partition("-")
        out.append((int(a), int(b or a)))
    return tuple(out)


def citations(source: str) -> list[Citation]:
    return [Citation(m[1], m[2], parse_ranges(m[3])) for m in CITATION.finditer(source)]


def sources_in_toml(path: Path) -> dict[str, str]:
    """Every ``source`` (and ``*_source``) string in a TOML file, by its dotted key path."""
    found: dict[str, str] = {}

    def walk(node, where):
        if isinstance(node, dict):
            for k, v in node.items():
                here = f"{where}.{k}" if where else k
                if isinstance(v, str) and (k == "source" or k.endswith("_source")):
                    found[here] = v
                else:
                    walk(v, here)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{where}.{i}")

    walk(tomllib.loads(path.read_text()), "")
    return found


def sources_in_csv(path: Path) -> dict[str, str]:
    """The ``source`` column of a targets file, by row name."""
    with path.open(newline="") as f:
        return {f"{row['name']}.source": row["source"] for row in csv.DictReader(f)}


def project_source_files() -> list[Path]:
    return sorted(
        [*ROOT.glob("scenarios/*.toml"), *ROOT.glob("scenarios/experiments/*.toml"),
         *ROOT.glob("calibration/report/*.toml"), *ROOT.glob("calibration/targets/*.csv")]
    )  # fmt: skip


def project_sources() -> dict[str, str]:
    """Every source text of the project, keyed ``<file>:<path>``."""
    out: dict[str, str] = {}
    for path in project_source_files():
        found = sources_in_csv(path) if path.suffix == ".csv" else sources_in_toml(path)
        out |= {f"{path.relative_to(ROOT)}:{k}": v for k, v in found.items()}
    return out


# -- checks ------------------------------------------------------------------------------------
def forbidden_problems(where: str, text: str) -> list[str]:
    """A text that points outside the repository other than through a bibliography key."""
    return [f"{where}: mentions {what}: {text!r}" for what, rx in FORBIDDEN.items() if rx.search(text)]


def citation_problems(where: str, source: str, bib: Bibliography) -> list[str]:
    """Everything wrong with one source text, judged without the seed files."""
    problems = forbidden_problems(where, source)
    stripped = source.strip()
    if not stripped:
        return [*problems, f"{where}: empty source"]
    cited = citations(source)
    if not cited and not stripped.lower().startswith(FORMS):
        problems.append(
            f"{where}: neither cites a document [key, locator] nor starts with {'/'.join(FORMS)}: {source!r}"
        )
    leftover = CITATION.sub("", source)
    if "[" in leftover or "]" in leftover:
        problems.append(f"{where}: a bracket that is not a citation [key, locator; lines a-b]: {source!r}")
    for c in cited:
        if c.key not in bib.keys:
            problems.append(f"{where}: unknown bibliography key {c.key!r} (docs/sources.md): {source!r}")
            continue
        for a, b in c.ranges:
            if not 1 <= a <= b:
                problems.append(f"{where}: bad line range {a}-{b} in [{c.key}, {c.locator}]")
        if c.ranges and c.key not in bib.seed_of:
            problems.append(f"{where}: line numbers for {c.key!r}, which is not a seed document")
        named = {n: bib.sections[c.key][n] for n in SECTION_NAME.findall(c.locator) if n in bib.sections.get(c.key, {})}
        for a, b in c.ranges if named else ():
            if not any(lo <= a and b <= hi for lo, hi in named.values()):
                problems.append(
                    f"{where}: lines {a}-{b} are not in {' or '.join(named)} of {c.key} "
                    f"({', '.join(f'{n}: {lo}-{hi}' for n, (lo, hi) in named.items())})"
                )
    return problems


def seed_line_problems(where: str, source: str, bib: Bibliography, seed_lines: dict[str, list[str]]) -> list[str]:
    """Cited seed lines that do not exist in the seed file the key maps to, or are all blank."""
    problems = []
    for c in citations(source):
        if not c.ranges or c.key not in bib.seed_of:
            continue
        name = bib.seed_of[c.key]
        lines = seed_lines.get(name)
        if lines is None:
            problems.append(f"{where}: seed file {name} of {c.key!r} not found")
            continue
        for a, b in c.ranges:
            if b > len(lines):
                problems.append(f"{where}: [{c.key}] lines {a}-{b}: {name} has only {len(lines)} lines")
            elif not any(line.strip() for line in lines[a - 1 : b]):
                problems.append(f"{where}: [{c.key}] lines {a}-{b} of {name} are blank")
    return problems


# -- the seed folder ---------------------------------------------------------------------------
def seeds_folder() -> Path | None:
    """``$CASELOAD_SIM_SEEDS``, else ``../shared/seeds`` beside the repository, if it exists."""
    env = os.environ.get(SEEDS_ENV)
    folder = Path(env) if env else ROOT.parent / "shared" / "seeds"
    return folder if folder.is_dir() else None


def read_seed_lines(folder: Path) -> dict[str, list[str]]:
    """Each seed file's lines as ``sed -n``/``cat -n`` number them (split on newlines only)."""
    out = {}
    for path in folder.glob("*.txt"):
        text = path.read_text(encoding="utf-8")
        lines = text.split("\n")
        out[path.name] = lines[:-1] if text.endswith("\n") else lines
    return out
