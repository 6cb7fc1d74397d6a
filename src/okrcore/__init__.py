"""okrcore: one trustworthy, documented calculation of OKR progress, pace and rollups.

The scalar reference path lives in :mod:`okrcore.formulas` (one pure function per rule) and
:mod:`okrcore.evaluate` (a whole document).  :mod:`okrcore.interchange` reads and writes the
version 1 interchange document.
"""

from okrcore.errors import DocumentError, OkrError, OkrValueError
from okrcore.evaluate import evaluate, key_result_progress
from okrcore.interchange import (
    dump,
    dump_result,
    dumps,
    dumps_result,
    evaluate_document,
    load,
    load_result,
    loads,
    loads_result,
    schema,
)
from okrcore.model import (
    Binary,
    CheckIn,
    Checkpoint,
    Document,
    InvalidKeyResult,
    InvalidObjective,
    KeyResult,
    Metric,
    Milestone,
    Objective,
    ProgressSettings,
    Range,
    decrease_by,
    increase_by,
)
from okrcore.policy import PRESETS, PaceRule, Policy
from okrcore.results import (
    Evaluation,
    Explanation,
    Forecast,
    Grade,
    KeyResultResult,
    ObjectiveResult,
    PersonResult,
)

__version__ = "0.1.0"

__all__ = [
    "PRESETS",
    "Binary",
    "CheckIn",
    "Checkpoint",
    "Document",
    "DocumentError",
    "Evaluation",
    "Explanation",
    "Forecast",
    "Grade",
    "InvalidKeyResult",
    "InvalidObjective",
    "KeyResult",
    "KeyResultResult",
    "Metric",
    "Milestone",
    "Objective",
    "ObjectiveResult",
    "OkrError",
    "OkrValueError",
    "PaceRule",
    "PersonResult",
    "Policy",
    "ProgressSettings",
    "Range",
    "__version__",
    "decrease_by",
    "dump",
    "dump_result",
    "dumps",
    "dumps_result",
    "evaluate",
    "evaluate_document",
    "increase_by",
    "key_result_progress",
    "load",
    "load_result",
    "loads",
    "loads_result",
    "schema",
]
