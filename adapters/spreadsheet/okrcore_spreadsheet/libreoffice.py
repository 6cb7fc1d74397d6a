"""Run LibreOffice headless to convert workbooks, optionally recalculating every formula on load.

LibreOffice decides on load whether to recalculate the formulas of an xlsx or ods file
(*Tools > Options > Calc > Formula > Recalculation on file load*).  These helpers start it with a
throw-away user profile whose ``OOXMLRecalcMode`` and ``ODFRecalcMode`` are set to *always*
(``0``) or *never* (``1``), so a conversion either recomputes every cell or keeps the cached
values exactly as written.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

__all__ = ["LibreOfficeError", "convert", "find_soffice"]

_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode"
 oor:op="fuse"><value>{mode}</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode"
 oor:op="fuse"><value>{mode}</value></prop></item>
</oor:items>
"""

_FILTERS = {"xlsx": "xlsx:Calc MS Excel 2007 XML", "ods": "ods:calc8", "pdf": "pdf:calc_pdf_Export"}


class LibreOfficeError(RuntimeError):
    """LibreOffice is missing or a conversion failed."""


def find_soffice() -> str | None:
    """Return the path of the ``soffice`` executable, or ``None`` when it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def convert(paths: Sequence[str | os.PathLike[str]], outdir: str | os.PathLike[str],
            to: str = "xlsx", recalculate: bool = True, timeout: float = 600.0) -> list[Path]:
    """Convert workbooks with one LibreOffice run; return the output paths in input order.

    Parameters
    ----------
    paths : sequence of path
        Input workbooks (xlsx or ods).  Many files in one call share one LibreOffice start.
    outdir : path
        Directory for the converted files (named like the inputs with the new suffix); it
        must differ from the inputs' directory when the format does not change.
    to : {"xlsx", "ods", "pdf"}
        Output format.
    recalculate : bool
        True: recalculate every formula on load; False: keep the cached values.
    timeout : float
        [s] for the whole run.

    Raises
    ------
    LibreOfficeError
        When ``soffice`` is not installed or an output file is missing after the run.
    """
    soffice = find_soffice()
    if soffice is None:
        raise LibreOfficeError(
            "LibreOffice (soffice) is not installed; on Debian: "
            "apt-get install --no-install-recommends libreoffice-calc")
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="okrcore-lo-") as profile:
        user = Path(profile, "user")
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(
            _PROFILE.format(mode=0 if recalculate else 1), encoding="utf-8")
        command = [soffice, f"-env:UserInstallation={Path(profile).as_uri()}", "--headless",
                   "--norestore", "--nologo", "--convert-to", _FILTERS[to], "--outdir", str(out),
                   *(str(p) for p in paths)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              check=False)
    results = [out / (Path(p).stem + "." + to) for p in paths]
    missing = [str(r) for r in results if not r.exists()]
    if missing:
        raise LibreOfficeError(f"LibreOffice did not write {missing}: {done.stderr.strip()}")
    return results
