"""Sources a reader can check: every citation names a document of docs/sources.md, at a place that exists.

The checks live in ``tests/citations.py`` as functions of texts; each is run here on the project's
files and on planted bad citations, so the failure path is exercised in every run (also where the
seed documents are absent).
"""

import pytest

from tests.citations import (
    ROOT,
    SEEDS_ENV,
    Bibliography,
    citation_problems,
    citations,
    forbidden_problems,
    load_bibliography,
    parse_bibliography,
    project_source_files,
    project_sources,
    read_seed_lines,
    seed_line_problems,
    seeds_folder,
)

BIB = load_bibliography()
SOURCES = project_sources()
SEEDS = seeds_folder()


def test_bibliography_is_well_formed():
    text = (ROOT / "docs" / "sources.md").read_text()
    rows = [line for line in text.split("## Sections")[0].splitlines() if line.startswith("| `")]
    assert len(rows) == len(BIB.keys) >= 20, "duplicate or unparsable keys in docs/sources.md"
    assert sorted(BIB.seed_of.values()) == sorted(set(BIB.seed_of.values())), "two keys for one seed file"
    assert len(BIB.seed_of) == 5, "each of the five seed documents has a key"
    for key, sections in BIB.sections.items():
        assert key in BIB.seed_of, f"sections for {key}, which is not a seed document"
        assert all(1 <= a <= b for a, b in sections.values()), f"{key}: bad section range"


def test_the_project_has_sources_to_check():
    assert len(project_source_files()) >= 9
    assert len(SOURCES) > 150
    assert sum(bool(citations(s)) for s in SOURCES.values()) > 60


@pytest.mark.parametrize("where", sorted(SOURCES))
def test_every_source_cites_the_bibliography_or_says_what_it_is(where):
    assert citation_problems(where, SOURCES[where], BIB) == []


@pytest.mark.parametrize("path", project_source_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_file_points_outside_the_repository(path):
    """Comments included: a seed file, ../shared, DOMAIN.md or notes/ only through a bibliography key."""
    problems = [p for n, line in enumerate(path.read_text().splitlines(), 1)
                for p in forbidden_problems(f"{path.relative_to(ROOT)}:{n}", line)]  # fmt: skip
    assert problems == []


# -- planted bad citations: the checks must fail on them ---------------------------------------
PLANTED = Bibliography(
    keys=frozenset({"doc-a", "web-b"}),
    seed_of={"doc-a": "000_0123456789abcdef.txt"},
    sections={"doc-a": {"part I": (1, 10), "part II": (11, 20), "§2.2": (5, 9)}},
)


@pytest.mark.parametrize(
    "source, reason",
    [
        ("[no-such-doc, §1] 40% aged 50+", "unknown bibliography key 'no-such-doc'"),
        ("assumption: see [doc-c, p. 4]", "unknown bibliography key 'doc-c'"),
        ("000_0123456789abcdef.txt:311 (1,250 helped to exit)", "seed file name"),
        ("assumption: remainder (DOMAIN.md section 10)", "DOMAIN.md"),
        ("assumption: not in the seeds (notes/seed_facts.md section 9)", "notes/"),
        ("see ../shared/seeds/", "../shared"),
        ("a rate from 002:345", "00N:line"),
        ("Divosa: ~30% back within 3 years", "neither cites a document"),
        ("[doc-a §2.2] no comma before the locator", "not a citation"),
        ("[doc-a, part II; lines 12-] open range", "not a citation"),
        ("[doc-a, part III; lines 15-12] reversed", "bad line range"),
        ("[doc-a, part I; lines 11-12] long benefit duration", "not in part I"),
        ("[doc-a, §2.2 and part II; line 4]", "not in §2.2 or part II"),
        ("[web-b, news item; line 3] a web page has no seed lines", "not a seed document"),
        ("", "empty source"),
    ],
)
def test_planted_bad_citation_is_caught(source, reason):
    problems = citation_problems("planted", source, PLANTED)
    assert any(reason in p for p in problems), problems


@pytest.mark.parametrize(
    "source",
    [
        "[doc-a, part II; lines 11-12] (good)",
        "assumption: [doc-a, §2.2 and part II; lines 5, 12-13]; rate an assumption",
        "derived: 1.5M / 1,250 [doc-a, part I; line 3]; [web-b, news item]",
        "calibrated: calibration/targets/utrecht.csv, 2026-11-23",
        "[doc-a, table 9; line 19] a locator that names no known section is not checked against sections",
    ],
)
def test_planted_good_citation_passes(source):
    assert citation_problems("planted", source, PLANTED) == []


def test_planted_seed_lines_beyond_the_file_are_caught():
    seed = {"000_0123456789abcdef.txt": ["line one", "", "line three", "", ""]}
    assert seed_line_problems("ok", "[doc-a, part I; lines 1-3]", PLANTED, seed) == []
    beyond = seed_line_problems("planted", "[doc-a, part I; lines 3-9]", PLANTED, seed)
    assert any("has only 5 lines" in p for p in beyond), beyond
    blank = seed_line_problems("planted", "[doc-a, part I; lines 4-5]", PLANTED, seed)
    assert any("are blank" in p for p in blank), blank
    missing = seed_line_problems("planted", "[doc-a, part I; line 1]", PLANTED, {})
    assert any("not found" in p for p in missing), missing


def test_bibliography_parser_reads_a_planted_table():
    text = (
        "| key | title | publisher | year | what it covers | where | seed |\n|---|---|---|---|---|---|---|\n"
        "| `doc-a` | A | P | 2014 | x | – | `000_0123456789abcdef.txt` |\n| `web-b` | B | Q | 2018 | y | u | – |\n\n"
        "## Sections\n\n| key | section | lines |\n|---|---|---|\n| `doc-a` | part I | 1-10 |\n"
    )
    bib = parse_bibliography(text)
    assert bib.keys == {"doc-a", "web-b"}
    assert bib.seed_of == {"doc-a": "000_0123456789abcdef.txt"}
    assert bib.sections == {"doc-a": {"part I": (1, 10)}}


# -- the seed documents, where they are ----------------------------------------------------------
needs_seeds = pytest.mark.skipif(
    SEEDS is None,
    reason=f"no seed documents: neither ${SEEDS_ENV} nor ../shared/seeds/ beside the repository exists",
)


@needs_seeds
def test_every_seed_file_of_the_bibliography_exists():
    names = {p.name for p in SEEDS.glob("*.txt")}
    assert set(BIB.seed_of.values()) <= names
    lines = read_seed_lines(SEEDS)
    for key, sections in BIB.sections.items():
        last = max(b for _, b in sections.values())
        assert last <= len(lines[BIB.seed_of[key]]), f"{key}: a section ends beyond the file"


@needs_seeds
def test_every_cited_seed_line_range_exists():
    lines = read_seed_lines(SEEDS)
    problems = [p for where, source in SOURCES.items() for p in seed_line_problems(where, source, BIB, lines)]
    assert problems == []
