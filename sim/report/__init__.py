"""Documents for people: the comparison report (HTML) and workbook (Excel)."""
