"""The Node.js example harness passes the vectors and properties of its capabilities."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from okrcore.conformance.vectors import load_vectors

ROOT = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")

if NODE is None:
    if os.environ.get("CI") == "true" or os.environ.get("OKRCORE_REQUIRE_NODE") == "1":
        pytest.fail("node is missing in CI: .ci/run installs the nodejs package",
                    pytrace=False)
    pytest.skip("node is not installed", allow_module_level=True)


def test_node_harness_passes_its_vectors_and_properties(tmp_path: Path) -> None:
    harness = f"{NODE} {ROOT / 'examples' / 'node-harness' / 'harness.js'}"
    out = subprocess.run(
        [sys.executable, "-m", "okrcore.cli", "conformance", "run", "--harness", harness,
         "--max-examples", "40", "--jsonl", str(tmp_path / "r.jsonl")],
        capture_output=True, text=True, check=False, timeout=600)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "node-example 1.0.0" in out.stdout
    records = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    declared = {"metrics", "reductions", "binary", "milestones"}
    runnable = {v.full_id for v in load_vectors() if v.capabilities <= declared}
    passed = {r["id"] for r in records if r["status"] == "passed"}
    assert runnable <= passed
    assert {"agrees_with_reference_metrics", "agrees_with_reference_reductions",
            "agrees_with_reference_binary", "agrees_with_reference_milestones",
            "reduction_mirrors_increase", "pace_bands_of_the_default_preset"} <= passed
    assert not [r for r in records if r["status"] == "failed"]
