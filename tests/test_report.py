"""`caseload-sim compare` end to end: CSV columns, a self-contained report.html and comparison.xlsx."""

import base64
from html.parser import HTMLParser

import pandas as pd
import pytest
from openpyxl import load_workbook

from sim.cli import main
from sim.model import resolve_path


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs))


def test_compare_writes_report_and_workbook(tmp_path):
    # a tiny copy of the bundled files: 2019-2020 only, so the run takes seconds
    scen = tmp_path / "sc"
    scen.mkdir()
    for name in ("utrecht_baseline", "werkbeweging"):
        text = resolve_path(name).read_text()
        if name == "utrecht_baseline":
            text = text.replace("start = 2015-01-01", "start = 2019-01-01").replace("years = 10", "years = 2")
        (scen / f"{name}.toml").write_text(text)
    out = tmp_path / "cmp"
    code = main([
        "compare", str(scen / "utrecht_baseline.toml"), str(scen / "werkbeweging.toml"),
        "--replications", "3", "--seed", "5", "--out", str(out),
    ])  # fmt: skip
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

    page = (out / "report.html").read_text(encoding="utf-8")
    parser = _Images()
    parser.feed(page)
    parser.close()
    assert parser.tags[0] == "html" and "table" in parser.tags
    assert len(parser.images) >= 3  # paths, difference, monitor charts
    for img in parser.images:
        assert img["src"].startswith("data:image/png;base64,"), img["src"][:40]
        assert base64.b64decode(img["src"].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    assert "werkmatchers_plus_15" in page  # the parameter differences are shown
    assert "link" not in parser.tags and "script" not in parser.tags  # self-contained: nothing fetched

    book = load_workbook(out / "comparison.xlsx")
    assert {"key_table", "comparison", "params_werkbeweging", "monitor_werkbeweging"} <= set(book.sheetnames)
    sheet = book["comparison"]
    assert [c.value for c in sheet[1]] == list(table.columns)
    assert sheet[1][0].font.bold and sheet.freeze_panes == "A2"
    assert sheet.max_row == len(table) + 1
