"""Proof the suite catches real bugs: faulty implementations fail, through both front ends.

Each faulty implementation (``conf_faulty``) reproduces one bug found in real OKR tools. The
suite must fail it with a message naming the property, the spec section and a minimal
document, through the pytest plug-in and through the process protocol.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conf_faulty import FAULTY

from okrcore.conformance.runner import run_vector
from okrcore.conformance.vectors import load_vectors

HERE = Path(__file__).resolve().parent

# faulty implementation -> (the property that must catch it, its main spec section)
CAUGHT_BY = {
    "TRUNCATING": ("staged_milestone_is_stage_ratio", "spec 2.4"),
    "CHILDREN_AS_ZERO": ("parent_is_mean_of_children", "spec 5"),
    "ABSOLUTE_REGRESSION": ("regression_is_zero_progress", "spec 3"),
    "REDUCTION_AS_INCREASE": ("reduction_mirrors_increase", "spec 2.1"),
    "UNCAPPED": ("overachievement_capped", "spec 3"),
    "PACE_AS_POINTS": ("pace_bands_of_the_default_preset", "spec 7.3"),
    "SUM_UNCAPPED": ("sum_goal_capped", "spec 4.3"),
}


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE), env.get("PYTHONPATH", "")])
    return env


def _minimal_document(text: str) -> dict[str, object]:
    """The first JSON document printed after 'minimal document' in a failure message."""
    start = text.index("minimal document")
    brace = text.index("{", start)
    document, _end = json.JSONDecoder().raw_decode(text[brace:])
    assert isinstance(document, dict)
    return document


def test_every_listed_bug_has_a_faulty_implementation() -> None:
    assert set(CAUGHT_BY) == set(FAULTY)


@pytest.mark.parametrize("name", sorted(FAULTY))
def test_faulty_implementation_fails_some_vector(name: str) -> None:
    faulty = FAULTY[name]
    failed = [v.full_id for v in load_vectors()
              if run_vector(v, faulty, faulty.capabilities).status == "failed"]
    assert failed, f"{name} passes every vector"


@pytest.mark.parametrize("name", sorted(FAULTY))
def test_faulty_implementation_fails_through_the_process_protocol(name: str,
                                                                  tmp_path: Path) -> None:
    prop, section = CAUGHT_BY[name]
    harness = f"{sys.executable} -m okrcore.cli conformance harness --impl conf_faulty:{name}"
    out = subprocess.run(
        [sys.executable, "-m", "okrcore.cli", "conformance", "run", "--harness", harness,
         "--only", prop, "--max-examples", "60", "--derandomize",
         "--jsonl", str(tmp_path / "r.jsonl")],
        capture_output=True, text=True, env=_env(), check=False, timeout=600)
    assert out.returncode == 1, out.stdout + out.stderr
    assert f"property {prop} failed ({section}" in out.stdout
    document = _minimal_document(out.stdout)
    assert document["okrcore"] == 1 and document["objectives"]
    record = json.loads((tmp_path / "r.jsonl").read_text().splitlines()[0])
    assert (record["id"], record["status"]) == (prop, "failed")
    assert record["documents"], "the JSON lines record carries the minimal document"


@pytest.mark.parametrize("name", sorted(FAULTY))
def test_faulty_implementation_fails_through_the_plugin(name: str, tmp_path: Path) -> None:
    prop, section = CAUGHT_BY[name]
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--pyargs", "okrcore.conformance",
         f"--okrcore-impl=conf_faulty:{name}", "--okrcore-max-examples=60",
         "--okrcore-derandomize", "-k", f"test_property and {prop}", "-p", "no:cacheprovider",
         "-q", "--rootdir", str(tmp_path)],
        capture_output=True, text=True, env=_env(), cwd=tmp_path, check=False, timeout=600)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "1 failed" in out.stdout
    assert f"property {prop} failed ({section}" in out.stdout
    assert _minimal_document(out.stdout)["objectives"]
