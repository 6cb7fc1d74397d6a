"""The public strategies: capability restrictions hold, readable() keeps the meaning."""

from __future__ import annotations

import subprocess
import sys

from hypothesis import given, settings

import okrcore
from okrcore import Binary, Document, Metric, Milestone
from okrcore.conformance.compare import project
from okrcore.conformance.strategies import documents, interchange_documents, readable
from okrcore.interchange import evaluate_document

BASIC = frozenset({"metrics"})


@settings(max_examples=40)
@given(doc=documents(BASIC))
def test_metrics_only_documents_use_nothing_else(doc: Document) -> None:
    assert doc.policy == okrcore.Policy()
    for obj in doc.objectives:
        assert isinstance(obj, okrcore.Objective)
        assert (obj.parent, obj.include_children, obj.mode, obj.owner) == (None, False, "mean",
                                                                           None)
        assert obj.progress_settings is None
        for kr in obj.key_results:
            assert isinstance(kr, Metric)
            assert kr.range is None and kr.check_ins is None and kr.owners == ()
            assert kr.target > kr.start  # no reductions
    assert okrcore.evaluate(doc).errors == ()  # without "errors" nothing is in error


@settings(max_examples=40)
@given(doc=documents({"metrics", "binary", "milestones", "as_of_history"}))
def test_kinds_follow_the_capabilities(doc: Document) -> None:
    for obj in doc.objectives:
        assert isinstance(obj, okrcore.Objective)
        for kr in obj.key_results:
            assert isinstance(kr, Metric | Binary | Milestone)
            if isinstance(kr, Metric):
                assert kr.range is None


@settings(max_examples=40)
@given(data=interchange_documents())
def test_readable_document_evaluates_the_same(data: dict[str, object]) -> None:
    slim = readable(data)
    assert len(str(slim)) <= len(str(data))
    assert project(evaluate_document(slim)) == project(evaluate_document(data))


def test_readable_drops_defaults() -> None:
    doc = Document(as_of=okrcore.loads('{"okrcore": 1, "as_of": "2026-01-01"}').as_of,
                   objectives=[okrcore.Objective(id="o", key_results=[
                       Metric(id="k", target=10)])])
    assert readable(doc.to_dict()) == {
        "okrcore": 1, "as_of": "2026-01-01T00:00:00Z",
        "objectives": [{"id": "o", "key_results": [{"id": "k", "kind": "metric",
                                                     "target": 10}]}]}


def _run_without(modules: tuple[str, ...], code: str) -> str:
    """Run ``code`` in a fresh interpreter in which ``modules`` cannot be imported."""
    blocked = "".join(f"sys.modules[{m!r}] = None\n" for m in modules)
    return subprocess.run([sys.executable, "-c", f"import sys\n{blocked}{code}"],
                          capture_output=True, text=True, check=True).stdout


def test_strategies_name_the_extra_without_hypothesis() -> None:
    out = _run_without(("hypothesis",), "try:\n    import okrcore.conformance.strategies\n"
                       "except ImportError as exc:\n    print(exc)\n")
    assert "pip install 'okrcore[conformance]'" in out


def test_package_imports_without_hypothesis_or_pytest() -> None:
    out = _run_without(("hypothesis", "pytest"),
                       "import okrcore.conformance, okrcore.conformance.vectors\n"
                       "print(len(okrcore.conformance.load_vectors()))\n")
    assert int(out) > 50
