"""What a new user of the suite hits first (issue 16): a module in the current directory, and a
bad ``--okrcore-impl`` that must be one usage error, not one error per test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

RUNNER = "import sys\nfrom okrcore.cli import main\nsys.exit(main())\n"


def _okrcore(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the command as its console script does: sys.path[0] is the script's directory."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "okrcore_script.py").write_text(RUNNER)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    return subprocess.run([sys.executable, str(bin_dir / "okrcore_script.py"), *args],
                          capture_output=True, text=True, cwd=work, check=False, timeout=600)


def test_okrcore_version(tmp_path: Path) -> None:
    from okrcore import __version__

    out = _okrcore(tmp_path, "--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout == f"okrcore {__version__}\n"


def test_conformance_run_finds_a_module_in_the_current_directory(tmp_path: Path) -> None:
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "my_okr.py").write_text(
        "from okrcore.conformance import REFERENCE as impl\n")
    out = _okrcore(tmp_path, "conformance", "run", "--impl", "my_okr:impl", "--vectors-only",
                   "--only", "metrics/weighted-mean")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 passed, 0 failed, 0 skipped" in out.stdout


def test_a_missing_module_names_the_current_directory(tmp_path: Path) -> None:
    out = _okrcore(tmp_path, "conformance", "run", "--impl", "no_such_okr:impl")
    assert out.returncode == 2
    assert out.stderr == ("okrcore conformance: no module named 'no_such_okr' on sys.path nor "
                          f"in the current directory {tmp_path / 'work'}\n")


def _pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
         "-q", "--pyargs", "okrcore.conformance", *args], capture_output=True, text=True,
        cwd=tmp_path, check=False, timeout=600)


def test_a_bad_implementation_is_one_usage_error_not_one_per_test(tmp_path: Path) -> None:
    out = _pytest(tmp_path, "--okrcore-impl=no_such_okr:impl")
    text = out.stdout + out.stderr
    assert out.returncode == 4, text  # pytest's usage error
    assert text.lower().count("no module named 'no_such_okr'") == 1, text
    assert " error" not in out.stdout  # no "122 errors" summary: nothing ran
    out = _pytest(tmp_path, "--okrcore-impl=okrcore:evaluate")
    assert out.returncode == 4
    assert (out.stdout + out.stderr).count("is neither an Implementation") == 1


def test_a_bad_disable_is_one_usage_error(tmp_path: Path) -> None:
    out = _pytest(tmp_path, "--okrcore-impl=okrcore.conformance:REFERENCE",
                  "--okrcore-disable=metricz")
    assert out.returncode == 4
    assert (out.stdout + out.stderr).count("unknown capability 'metricz'") == 1
