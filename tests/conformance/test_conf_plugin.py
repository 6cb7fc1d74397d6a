"""The pytest plug-in: inert by default, runs the suite with --okrcore-impl, honours its options."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from okrcore.conformance.properties import PROPERTIES
from okrcore.conformance.vectors import load_vectors

REFERENCE = "--okrcore-impl=okrcore.conformance:REFERENCE"


def _pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
         *args], capture_output=True, text=True, cwd=tmp_path, check=False, timeout=900)


def test_plugin_is_registered_and_inert_in_other_test_runs(tmp_path: Path) -> None:
    (tmp_path / "test_other.py").write_text(
        "def test_other(request):\n"
        "    assert request.config.getoption('okrcore_impl') is None\n")
    out = _pytest(tmp_path, "-q", "test_other.py")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 passed" in out.stdout
    assert "--okrcore-impl" in _pytest(tmp_path, "--help").stdout


def test_suite_is_skipped_without_an_implementation(tmp_path: Path) -> None:
    out = _pytest(tmp_path, "-q", "--pyargs", "okrcore.conformance", "-rs")
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"{len(load_vectors()) + len(PROPERTIES)} skipped" in out.stdout
    assert "needs --okrcore-impl=MODULE:ATTR" in out.stdout


def test_reference_passes_everything_through_the_plugin(tmp_path: Path) -> None:
    out = _pytest(tmp_path, "-q", "--pyargs", "okrcore.conformance", REFERENCE,
                  "--okrcore-max-examples=10", "--okrcore-derandomize")
    assert out.returncode == 0, out.stdout + out.stderr
    assert f"{len(load_vectors()) + len(PROPERTIES)} passed" in out.stdout


def test_skip_xfail_files_disable_and_unmatched_ids(tmp_path: Path) -> None:
    (tmp_path / "skip.txt").write_text("# known gaps\nbinary/*  # not yet\nno/such-case\n")
    (tmp_path / "xfail.txt").write_text("metrics/weighted-mean  # a bug we know of\n")
    out = _pytest(tmp_path, "-q", "-rsX", "--pyargs", "okrcore.conformance", REFERENCE,
                  "--okrcore-skip-file", "skip.txt", "--okrcore-xfail-file", "xfail.txt",
                  "--okrcore-disable", "ranges", "-k",
                  "test_vector and (binary or weighted or deals-7-band)")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "7 skipped" in out.stdout  # six binary vectors by the file, one range by --disable
    assert "1 xpassed" in out.stdout  # the reference passes it: xfail is not strict
    assert "not yet" in out.stdout
    assert "needs capability ranges" in out.stdout
    assert "'no/such-case' matches no test of the okrcore conformance suite" in out.stdout
    assert "ConformanceWarning" in out.stdout


def test_bad_options_are_usage_errors(tmp_path: Path) -> None:
    out = _pytest(tmp_path, "-q", "--pyargs", "okrcore.conformance",
                  "--okrcore-impl=okrcore:evaluate", "-k", "binary/done")
    assert out.returncode != 0
    assert "--okrcore-impl=okrcore:evaluate" in out.stdout + out.stderr
    out = _pytest(tmp_path, "-q", "--pyargs", "okrcore.conformance", REFERENCE,
                  "--okrcore-disable=metrics", "-k", "binary/done")
    assert out.returncode != 0
    assert "'metrics' is required" in out.stdout + out.stderr
