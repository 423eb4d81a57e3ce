"""`caseload-sim compare` outputs for their readers: report.html, comparison.xlsx and charts (issue 13).

One small comparison (Utrecht 2019-2020, 3 replications) is run once per module and written in
both languages; the checks read the files a policy officer or finance officer would open.
"""

import base64
import re
from html.parser import HTMLParser

import pandas as pd
import pytest
from openpyxl import load_workbook

from sim.analysis.compare import load_arms, run_arms
from sim.cli import main
from sim.model import resolve_path
from sim.report.comparison import write_comparison
from sim.report.workbook import sheet_name

INJECTION = '=HYPERLINK("http://example.invalid","x")'


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A tiny copy of the bundled files (2019-2020), the alternative's description and a source hostile."""
    scen = tmp_path_factory.mktemp("sc")
    base = resolve_path("utrecht_baseline").read_text()
    base = re.sub(r"^years = \d+$", "years = 2", base.replace("start = 2015-01-01", "start = 2019-01-01"), count=1, flags=re.M)
    (scen / "utrecht_baseline.toml").write_text(base)
    for name in ("utrecht_baseline.draws.csv", "corona_2020.toml"):  # what the copies read (werkbeweging extends corona)
        (scen / name).write_bytes((resolve_path("utrecht_baseline").parent / name).read_bytes())
    alt = resolve_path("werkbeweging").read_text()
    alt = re.sub(r'^description = ".*"$', f"description = '{INJECTION}'", alt, count=1, flags=re.M)
    lever = alt.index("[levers.caseload_125]")  # the lever's source line becomes the hostile text
    line = alt.index("source = ", lever)
    alt = alt[:line] + f"source = '{INJECTION}'" + alt[alt.index("\n", line):]
    (scen / "werkbeweging.toml").write_text(alt)
    return scen


@pytest.fixture(scope="module")
def arms(folder):
    scenarios = load_arms([str(folder / "utrecht_baseline.toml"), str(folder / "werkbeweging.toml")])
    return run_arms(scenarios, seed=5, replications=3, workers=1)


@pytest.fixture(scope="module")
def outputs(arms, tmp_path_factory):
    root = tmp_path_factory.mktemp("cmp")
    return {lang: write_comparison(arms, root / lang, lang=lang) for lang in ("nl", "en")}


class _Page(HTMLParser):
    """Tags, images, the text before the first table and the text of the first table."""

    def __init__(self):
        super().__init__()
        self.tags, self.images, self.before, self.first_table = [], [], [], []
        self._tables = 0
        self._in_first = False
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs))
        if tag == "table":
            self._tables += 1
            self._in_first = self._tables == 1
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_first = False
        if tag == "style":
            self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            return
        if self._tables == 0:
            self.before.append(data)
        elif self._in_first:
            self.first_table.append(data)


def _page(path) -> _Page:
    parser = _Page()
    parser.feed(path.read_text(encoding="utf-8"))
    parser.close()
    return parser


def test_first_table_holds_euros_after_a_summary_in_words(outputs):
    page = _page(outputs["en"] / "report.html")
    before, table = " ".join(page.before), " ".join(page.first_table)
    assert "Compared with Utrecht baseline, Werkbeweging changes" in before
    assert "95% interval" in before and "I-deel" in before
    assert re.search(r"€\d{1,3}(,\d{3})+", table), table[:400]  # euros with thousands separators
    assert "Cost to the I-deel" in table and "P(I-deel deficit)" in table
    assert "+0 (+0 to +0)" not in table and "Utrecht baseline" in table
    assert [t for t in page.tags if t in ("table", "img")][0] == "table"  # key figures before charts


def test_report_is_self_contained_with_captions(outputs):
    page = _page(outputs["en"] / "report.html")
    text = (outputs["en"] / "report.html").read_text(encoding="utf-8")
    assert len(page.images) >= 4  # caseload, exits, difference, I-deel (+ monitor)
    for img in page.images:
        assert img["src"].startswith("data:image/png;base64,"), img["src"][:40]
        assert base64.b64decode(img["src"].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "link" not in page.tags and "script" not in page.tags  # nothing fetched
    assert "@media print" in text and "size: A4" in text
    assert "utrecht-monitor" in text  # observed points are named in the caption, by their bibliography key
    assert "5% to 95% of the replications" in text


def test_parameter_rows_only_where_scenarios_differ(outputs):
    text = (outputs["en"] / "report.html").read_text(encoding="utf-8")
    params = text[text.index("What differs from the base"):]
    rows = re.findall(r"<tr><td>(.*?)</td>", params)
    # werkbeweging runs during corona: its 5 levers, corona's 9 levers, and 3 values (the WW series, the
    # programme's budget and planned spend) differ from the baseline, nothing else
    assert len(rows) == 17, rows
    assert any("Werkmatchers arrangement 3: werkmatcher FTE" in row for row in rows) and "+15" in params
    assert "1 Jul 2019 to 31 Dec 2021" in params
    assert "levers." not in " ".join(rows) and "multiply" not in params and "add 0.0" not in params
    assert params.count('<table class="values">') == 1  # the three values that differ, in one table
    for key in ("utrecht_baseline", ">werkbeweging<", "arr1<"):
        assert key not in text  # labels come from the scenario, never file keys
    assert "=HYPERLINK(&#34;" in text or "=HYPERLINK(&quot;" in text  # the hostile text is escaped, not markup


def test_workbook_for_finance(outputs):
    book = load_workbook(outputs["en"] / "comparison.xlsx")
    assert {"Summary", "I-deel and budgets", "Caseload and flows", "P(deficit)", "Parameters", "Metadata"} <= set(
        book.sheetnames
    )
    money = book["I-deel and budgets"]
    assert money.freeze_panes == "A3" and money.auto_filter.ref.startswith("A2:")
    assert "EUR" in money["A1"].value or "EUR" in money["C3"].value  # units are named
    numbers = [c for row in money.iter_rows(min_row=3) for c in row[3:] if isinstance(c.value, float)]
    assert numbers and all("€" in c.number_format and "#,##0" in c.number_format for c in numbers)
    meta = {r[0].value: r[1].value for r in book["Metadata"].iter_rows(min_row=3)}
    assert meta["Seed"] == 5 and meta["Replications per scenario"] == 3
    assert meta["Base scenario"] == "Utrecht baseline" and "caseload-sim version" in meta
    risk = book["P(deficit)"]
    assert [c.value for c in risk[2]][-1] == "Replications" and risk["F3"].value == 3
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value and "HYPERLINK" in str(c.value)]
    assert len(cells) >= 2  # the description (metadata) and the lever's source (parameters)
    for cell in cells:
        assert cell.data_type == "s" and cell.value == INJECTION, (cell.coordinate, cell.data_type)


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_workbook_sheets_name_measures_in_words(outputs, lang):
    """The wide sheets a controller reads label every measure (per state, pot and programme too), never a
    column key such as ``benefit_cost``; the long sheet of all figures keeps the keys for formulas."""
    book = load_workbook(outputs[lang] / "comparison.xlsx")
    for sheet in book.sheetnames[1:3]:  # I-deel and budgets; caseload and flows
        measures = [row[1] for row in book[sheet].iter_rows(min_row=3, values_only=True)]
        assert measures and not [m for m in measures if re.fullmatch(r"[a-z0-9_]+", m)], sheet


def test_dutch_headings_and_labels_everywhere(outputs, arms, tmp_path):
    from sim.report.charts import caseload_chart, ideel_chart
    from sim.util.i18n import Texts

    html = (outputs["nl"] / "report.html").read_text(encoding="utf-8")
    for words in ("Samenvatting", "Kerncijfers", "Grafieken", "Wat verschilt van de basis", "Vergeleken met",
                  "Huishoudens in de bijstand op 31 december", "1 jul 2019 t/m 31 dec 2021", 'lang="nl"'):  # fmt: skip
        assert words in html, words
    assert re.search(r"€ \d{1,3}(\.\d{3})+", html)  # Dutch thousands separators
    book = load_workbook(outputs["nl"] / "comparison.xlsx")
    assert {"Samenvatting", "I-deel en budgetten", "Bestand en stromen", "Metadata"} <= set(book.sheetnames)
    assert [c.value for c in book["Samenvatting"][2]][:3] == ["Jaar", "Kengetal", "Eenheid"]
    nl = caseload_chart(arms, tmp_path / "nl.png", Texts("nl")).texts
    en = caseload_chart(arms, tmp_path / "en.png", Texts("en")).texts
    assert "Huishoudens in de bijstand" in nl and "waargenomen (jaareinde)" in nl and "Utrecht baseline" in nl
    assert "Households on social assistance" in en and not any("Huishoudens" in x for x in en)
    assert not any(x in ("utrecht_baseline", "werkbeweging") for x in nl)
    assert "Kans op een tekort op het I-deel (n = 3)" in ideel_chart(arms, tmp_path / "i.png", Texts("nl")).texts


def test_report_renders_in_a_browser_with_every_image(outputs, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1200, "height": 1600})
    page.goto((outputs["nl"] / "report.html").as_uri())
    loaded = page.eval_on_selector_all("img", "imgs => imgs.map(i => i.complete && i.naturalWidth > 100)")
    assert loaded and all(loaded), loaded
    assert page.inner_text("h1") == "Vergelijking van scenario's"
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf), format="A4")  # the print stylesheet: A4 pages
    page.close()
    assert shot.stat().st_size > 10_000 and pdf.read_bytes()[:4] == b"%PDF"
    print(f"screenshot: {shot}\nprint version: {pdf}")


def test_compare_command_with_years_shown_and_language(folder, tmp_path):
    out = tmp_path / "cmp"
    code = main(["compare", str(folder / "utrecht_baseline.toml"), str(folder / "werkbeweging.toml"), "-r", "2",
                 "--seed", "5", "--out", str(out), "--years-shown", "2020", "--lang", "en", "-q", "-w", "1"])  # fmt: skip
    assert code == 0
    table = pd.read_csv(out / "comparison.csv")
    assert list(table.columns) == ["metric", "year", "scenario", "mean", "diff_vs_base", "diff_ci_low", "diff_ci_high"]
    rows = table[(table.metric == "movements") & (table.year == 2020)].set_index("scenario")
    row = rows.loc["werkbeweging"]
    # The paired difference is the mean of per-replication differences, the scenario means are taken per arm:
    # by linearity they must agree (to the table's 3 decimals). A pairing bug (replications matched out of
    # order, a wrong base) would break this; "the mean lies inside its own CI" could not fail.
    assert row.diff_vs_base == pytest.approx(row["mean"] - rows.loc["utrecht_baseline", "mean"], abs=0.002)
    assert row.diff_ci_high > row.diff_ci_low  # three different replications: a real spread, not a copy
    assert row.diff_vs_base > 0  # 15 extra FTE at caseload 125 raise movements
    key = " ".join(_page(out / "report.html").first_table)
    assert "2020" in key and "2019" not in key  # only the years asked for
    assert main(["compare", str(folder / "utrecht_baseline.toml"), str(folder / "werkbeweging.toml"), "-r", "2",
                 "--out", str(tmp_path / "bad"), "--years-shown", "2030", "-q", "-w", "1"]) == 2  # fmt: skip


def test_sheet_names_stay_unique_and_valid():
    used: set[str] = set()
    long = "Participatiebudget arrangement 3 / cut"
    names = [sheet_name(long + " A", used), sheet_name(long + " B", used), sheet_name(long + " A", used)]
    assert len(set(names)) == 3 and all(len(n) <= 31 and "/" not in n for n in names)
