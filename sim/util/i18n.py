"""Dutch and English: one string catalogue per language and number formats.

The strings live in ``sim/util/locale/<lang>.toml`` (data, not code), so a
translator edits one file per language. :class:`Texts` looks a dotted key up
(``t("report.title")``), fills ``{placeholders}``, and formats numbers the way
the reader's language writes them (``1.234.567`` in Dutch, ``1,234,567`` in English).
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from functools import cache
from pathlib import Path

LANGS = ("nl", "en")
DEFAULT = "nl"
LOCALE = Path(__file__).parent / "locale"
MINUS = "\u2212"  # a real minus sign: a hyphen is easy to miss in a table of amounts


def choose_lang(requested: str | None, scenarios=()) -> str:
    """``--lang`` if given, else the first scenario's ``language``, else Dutch."""
    if requested:
        if requested not in LANGS:
            raise ValueError(f"--lang {requested!r}: choose from {', '.join(LANGS)}")
        return requested
    for scenario in scenarios:
        if getattr(scenario, "language", None):
            return scenario.language
    return DEFAULT


@cache
def catalogue(lang: str) -> dict[str, object]:
    """The flat ``{"section.key": value}`` catalogue of ``lang``."""
    with open(LOCALE / f"{lang}.toml", "rb") as fh:
        data = tomllib.load(fh)
    return {f"{section}.{key}": value for section, table in data.items() for key, value in table.items()}


class Texts:
    """The strings and number formats of one language."""

    def __init__(self, lang: str = DEFAULT):
        if lang not in LANGS:
            raise ValueError(f"unknown language {lang!r} (choose from {', '.join(LANGS)})")
        self.lang = lang
        self._s = catalogue(lang)

    def __call__(self, key: str, **values) -> str:
        """The string ``key`` with ``values`` filled in."""
        text = self._s[key]
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self._s

    def number(self, x: float, decimals: int = 0, sign: bool = False) -> str:
        """``x`` with the language's thousands and decimal separators (and ``+``/minus when ``sign``)."""
        if x is None or (isinstance(x, float) and not math.isfinite(x)):
            return self("report.not_available")
        text = f"{abs(x):,.{decimals}f}"
        text = text.replace(",", "\x00").replace(".", self("format.decimal")).replace("\x00", self("format.thousands"))
        if round(x, decimals) == 0:
            return ("±" if sign else "") + text.replace(MINUS, "")
        return (MINUS if x < 0 else "+" if sign else "") + text

    def euro(self, x: float, sign: bool = False) -> str:
        """An amount in whole euros, e.g. ``€ 1.234.567`` (nl) or ``−€1,234,567`` (en)."""
        if x is None or (isinstance(x, float) and not math.isfinite(x)):
            return self("report.not_available")
        amount = self("format.euro", amount=self.number(abs(x)))
        if round(x) == 0:
            return ("±" if sign else "") + amount
        return (MINUS if x < 0 else "+" if sign else "") + amount

    def percent(self, p: float, decimals: int = 0) -> str:
        """A share as a percentage, ``0.123`` -> ``12%``."""
        return f"{self.number(100 * p, decimals)}%"

    def date(self, when: dt.date) -> str:
        """``1 jul 2019`` / ``1 Jul 2019``."""
        return self("format.date", day=when.day, month=self._s["format.months"][when.month - 1], year=when.year)

    def years(self, years: list[int]) -> str:
        """``2019-2021`` for consecutive years, else ``2019, 2021``."""
        years = sorted(years)
        if len(years) > 1 and years == list(range(years[0], years[-1] + 1)):
            return f"{years[0]}–{years[-1]}"
        return ", ".join(str(y) for y in years)

    def join(self, items: list[str]) -> str:
        """``a, b and c`` / ``a, b en c``."""
        items = [i for i in items if i]
        if len(items) <= 1:
            return "".join(items)
        return f"{', '.join(items[:-1])} {self('summary.and')} {items[-1]}"
