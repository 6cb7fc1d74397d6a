"""The template generator: an empty workbook in the documented layout, with an example."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from . import layout as L
from .writing import Sheet, save_sheets

__all__ = ["write_template"]


def write_template(path: str | os.PathLike[str], example: bool = True) -> Path:
    """Write a workbook with the input sheets and their headers, ready to fill in.

    Parameters
    ----------
    path : path
        ``.xlsx`` or ``.ods`` (ods needs LibreOffice).
    example : bool
        Fill in the worked example of the tutorial (one objective, three key results); with
        ``False`` only the headers and the Settings rows are written.

    Returns
    -------
    Path
        The workbook written.
    """
    settings = Sheet(L.SETTINGS, ["Setting", "Value"])
    defaults: dict[str, object] = {"As of": datetime(2026, 2, 15), "Preset": "betterworks"}
    for label in L.SETTING_ROWS:
        settings.rows.append({"Setting": label, "Value": defaults.get(label)})  # type: ignore[dict-item]
    objectives = Sheet(L.OBJECTIVES, list(L.OBJECTIVE_COLUMNS))
    krs = Sheet(L.KEY_RESULTS, list(L.KR_COLUMNS))
    checkins = Sheet(L.CHECKINS, list(L.CHECKIN_COLUMNS))
    checkpoints = Sheet(L.CHECKPOINTS, list(L.CHECKPOINT_COLUMNS))
    if example:
        quarter = {"Start": datetime(2026, 1, 1), "Due": datetime(2026, 4, 1)}
        objectives.rows += [
            {"ID": "company", "Name": "Grow the company", "Owner": "ceo", **quarter},
            {"ID": "support", "Name": "Faster support", "Owner": "ann", "Parent": "company",
             **quarter},
            {"ID": "sales", "Name": "Win the quarter", "Owner": "bob", "Parent": "company",
             "Sum unit": "USD", "Sum target": 800000, **quarter},
        ]
        krs.rows += [
            {"Objective": "support", "ID": "call-time", "Name": "Average call time",
             "Kind": "metric", "Unit": "min", "Start": 45, "Target": 20, "Current": 30},
            {"Objective": "support", "ID": "crm", "Name": "CRM in 5 stages", "Kind": "milestone",
             "Owners": "bob", "Stages total": 5, "Stages done": 3},
            {"Objective": "support", "ID": "nps", "Name": "Net promoter score", "Kind": "metric",
             "Target": 50},
            {"Objective": "sales", "ID": "enterprise", "Name": "Enterprise revenue",
             "Kind": "metric", "Unit": "USD", "Target": 500000, "Current": 320000},
            {"Objective": "sales", "ID": "smb", "Name": "SMB revenue", "Kind": "metric",
             "Unit": "USD", "Target": 350000, "Current": 180000},
            {"Objective": "sales", "ID": "deals", "Name": "Deals per month", "Kind": "metric",
             "Unit": "deals", "Target": 12, "Current": 9, "Red low": 8, "Yellow low": 10,
             "Yellow high": 15, "Red high": 18, "Range mode": "band"},
        ]
        checkins.rows += [{"Key result": "nps", "At": datetime(2026, 1, 20), "Value": 30},
                          {"Key result": "nps", "At": datetime(2026, 2, 10), "Value": 40}]
    target = Path(path)
    save_sheets([objectives, krs, checkins, checkpoints, settings], target)
    return target
