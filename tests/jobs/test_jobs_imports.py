from __future__ import annotations

import io
import json
import subprocess
import sys

from okrcore.jobs.command import make_progress


def test_jobs_import_only_attrs_numpy_and_stdlib() -> None:
    code = (
        "import sys, okrcore.jobs, okrcore.jobs.parquet, okrcore.jobs.run, okrcore.jobs.command,"
        " okrcore.jobs.sample, okrcore.jobs.asof, okrcore.cli\n"
        "third = {m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names)\n"
        "import json; print(json.dumps(sorted(third)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    allowed = {"okrcore", "attrs", "attr", "numpy", "__main__", "_distutils_hack"}
    imported = {m for m in json.loads(out) if not m.startswith(("__editable__", "_virtualenv"))}
    assert imported <= allowed, imported - allowed


def test_progress_is_off_when_not_a_terminal_or_never() -> None:
    stream = io.StringIO()
    update, close = make_progress("auto", stream)
    assert update is None
    close()
    update, close = make_progress("never", stream)
    assert update is None
    assert stream.getvalue() == ""


def test_progress_always_draws_a_bar() -> None:
    stream = io.StringIO()
    update, close = make_progress("always", stream)
    assert update is not None  # rich is in the dev extras
    update("compute", 3, 4)
    close()
    assert "computing" in stream.getvalue() and "3/4" in stream.getvalue()
