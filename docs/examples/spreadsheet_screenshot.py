"""Regenerate docs/images/spreadsheet-summary.png: the tutorial workbook rendered by LibreOffice.

Run from the repository root with LibreOffice and poppler-utils (pdftoppm) installed:
``.venv/bin/python docs/examples/spreadsheet_screenshot.py``.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import okrcore
from okrcore_spreadsheet import convert, read_workbook, write_template, write_workbook

OUT = Path(__file__).resolve().parents[1] / "images" / "spreadsheet-summary.png"

with tempfile.TemporaryDirectory() as tmp:
    filled = read_workbook(write_template(Path(tmp, "okrs-input.xlsx")))
    exported = write_workbook(Path(tmp, "okrs.xlsx"), filled.document,
                              okrcore.evaluate(filled.document))
    [pdf] = convert([exported.path], tmp, to="pdf", recalculate=False)
    subprocess.run(["pdftoppm", "-png", "-r", "90", "-f", "1", "-l", "1", "-x", "20", "-y", "40",
                    "-W", "650", "-H", "380", "-singlefile", str(pdf), str(OUT.with_suffix(""))],
                   check=True)
print(OUT)
