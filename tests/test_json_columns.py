"""The reader from JSON straight into frame columns (issue 19): the usual path's frame, or none.

:func:`okrcore._json_columns.read_columns` must either give the columns of exactly the frame
``OrgFrame.from_document(okrcore.loads(text))`` (same instant, same policy) or decline; it must
decline every document the loader reports anything about (an error, a warning).  And
``okrcore evaluate`` must print the same bytes, the same standard error and exit with the same
status whether the reader is used or not.  Checked on the conformance vectors, the sample and
synthetic organisations (seeds), flat documents, generated and hostile documents, and a list
of single faults put into a document the reader accepts.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import okrcore
from okrcore import cli
from okrcore._json_columns import read_columns
from okrcore.batch import OrgFrame
from okrcore.conformance.vectors import load_vectors
from okrcore.evaluate import instant_us
from okrcore.model import InvalidKeyResult, InvalidObjective
from strategies import documents
from test_document_fast import assert_same_frame

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from bench_document import flat_document
from synthetic import synthetic_document


def _clean(document: okrcore.Document) -> bool:
    """Whether the loader reported nothing: no warning and no invalid item."""
    return not document.warnings and not any(
        isinstance(o, InvalidObjective) or any(isinstance(k, InvalidKeyResult)
                                               for k in o.key_results)
        for o in document.objectives)


def check_text(text: str | bytes) -> bool:
    """The reader's columns are the usual frame's, or it declined; whether it read."""
    fast = read_columns(text)
    try:
        document = okrcore.loads(text)
    except okrcore.DocumentError:
        assert fast is None
        return False
    if not _clean(document):
        assert fast is None
        return False
    if fast is None:
        return False
    frame = OrgFrame.from_columns(**fast.columns)
    assert not frame.validated  # the engine checks the rows again
    assert_same_frame(OrgFrame.from_document(document), attrs.evolve(frame, validated=True))
    assert fast.as_of_us == instant_us(document.as_of)
    assert fast.policy == document.policy
    assert fast.items == frame.n_obj + frame.n_kr
    return True


def _flat(n: int = 120, seed: int = 0) -> dict[str, Any]:
    return flat_document(n, seed)


def test_flat_documents_are_read_and_give_the_usual_frame() -> None:
    for seed in range(4):
        assert check_text(json.dumps(_flat(200, seed)))
        assert check_text(json.dumps(_flat(200, seed), indent=2).encode("utf-16"))


def test_the_corpus_gives_the_usual_frame_or_is_declined() -> None:
    texts = [json.dumps(v.document) for v in load_vectors()]
    texts += [json.dumps(synthetic_document(300, seed)) for seed in range(3)]
    from okrcore.sample import generate_organisation

    texts.append(okrcore.dumps(generate_organisation()))
    read = [check_text(t) for t in texts]
    assert sum(read) >= 5  # the common vectors are read (the rest: dates, checkpoints...)
    assert all(read[-4:-1])  # the synthetic organisations (with progress settings)


@settings(max_examples=80, deadline=None)
@given(document=documents())
def test_generated_documents_give_the_usual_frame_or_are_declined(
        document: okrcore.Document) -> None:
    check_text(okrcore.dumps(document))
    check_text(okrcore.dumps(document, indent=None))


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_hostile_documents_are_declined_or_read_as_usual(data: st.DataObject) -> None:
    from hostile import documents as hostile_documents
    from hostile import hostile_text

    check_text(hostile_text(data.draw(hostile_documents())))


def _kr(doc: dict[str, Any], kind: str, *, check_ins: bool | None = None,
        ranged: bool | None = None) -> dict[str, Any]:
    """The first key result of ``kind`` (with or without check-ins / a range)."""
    for objective in doc["objectives"]:
        for kr in objective["key_results"]:
            if kr["kind"] != kind:
                continue
            if check_ins is not None and ("check_ins" in kr) != check_ins:
                continue
            if ranged is not None and ("range" in kr) != ranged:
                continue
            return kr  # type: ignore[no-any-return]
    raise AssertionError(kind)


def _staged(doc: dict[str, Any]) -> dict[str, Any]:
    for objective in doc["objectives"]:
        for kr in objective["key_results"]:
            if kr["kind"] == "milestone" and "stages_total" in kr and "check_ins" not in kr:
                return kr  # type: ignore[no-any-return]
    raise AssertionError("staged")


Fault = Callable[[dict[str, Any]], object]
FAULTS: dict[str, Fault] = {
    "unknown top field": lambda d: d.update(extra=1),
    "okrcore 1.0": lambda d: d.update(okrcore=1.0),
    "okrcore true": lambda d: d.update(okrcore=True),
    "as_of missing": lambda d: d.pop("as_of"),
    "as_of a date": lambda d: d.update(as_of="2026-02-15"),
    "policy unknown field": lambda d: d.update(policy={"colour": 1}),
    "policy preset": lambda d: d.update(policy={"preset": "betterworks", "cap": 1.2}),
    "objectives null": lambda d: d.update(objectives=None),
    "objective a list": lambda d: d["objectives"].append([]),
    "objective unknown field": lambda d: d["objectives"][3].update(colour="red"),
    "objective id empty": lambda d: d["objectives"][3].update(id=""),
    "objective id a number": lambda d: d["objectives"][3].update(id=7),
    "objective id missing": lambda d: d["objectives"][3].pop("id"),
    "objective id twice": lambda d: d["objectives"][3].update(id=d["objectives"][2]["id"]),
    "owner empty": lambda d: d["objectives"][3].update(owner=""),
    "owner a list": lambda d: d["objectives"][3].update(owner=["p1"]),
    "parent unknown": lambda d: d["objectives"][3].update(parent="nowhere"),
    "parent itself": lambda d: d["objectives"][3].update(parent=d["objectives"][3]["id"]),
    "parent cycle": lambda d: (d["objectives"][3].update(parent=d["objectives"][4]["id"]),
                               d["objectives"][4].update(parent=d["objectives"][3]["id"])),
    "parent given": lambda d: d["objectives"][3].update(parent=d["objectives"][4]["id"]),
    "weight negative": lambda d: d["objectives"][3].update(weight=-1),
    "weight minus zero": lambda d: d["objectives"][3].update(weight=-0.0),
    "weight true": lambda d: d["objectives"][3].update(weight=True),
    "weight text": lambda d: d["objectives"][3].update(weight="1"),
    "weight huge": lambda d: d["objectives"][3].update(weight=10**400),
    "weight an int": lambda d: d["objectives"][3].update(weight=3),
    "weight null": lambda d: d["objectives"][3].update(weight=None),
    "due before start": lambda d: d["objectives"][3].update(due="2025-01-01T00:00:00Z"),
    "due equals start": lambda d: d["objectives"][3].update(due=d["objectives"][3]["start"]),
    "start a date": lambda d: d["objectives"][3].update(start="2026-01-01"),
    "start with an offset": lambda d: d["objectives"][3].update(
        start="2026-01-01T00:00:00+01:00"),
    "start with fractions": lambda d: d["objectives"][3].update(
        start="2026-01-01T00:00:00.5Z"),
    "start not a day": lambda d: d["objectives"][3].update(start="2026-02-30T00:00:00Z"),
    "start hour 24": lambda d: d["objectives"][3].update(start="2026-01-01T24:00:00Z"),
    "start year 0": lambda d: d["objectives"][3].update(start="0000-01-01T00:00:00Z"),
    "start a space": lambda d: d["objectives"][3].update(start="2026-01-01 00:00:00Z"),
    "start null": lambda d: d["objectives"][3].update(start=None),
    "mode unknown": lambda d: d["objectives"][3].update(mode="median"),
    "mode mean": lambda d: d["objectives"][3].update(mode="mean"),
    "mode sum": lambda d: d["objectives"][3].update(mode="sum"),
    "mode a list": lambda d: d["objectives"][3].update(mode=["sum"]),
    "ambition unknown": lambda d: d["objectives"][3].update(ambition="huge"),
    "status set": lambda d: d["objectives"][3].update(status="at_risk"),
    "status empty": lambda d: d["objectives"][3].update(status=""),
    "status unknown": lambda d: d["objectives"][3].update(status="late"),
    "include_children 1": lambda d: d["objectives"][3].update(include_children=1),
    "include_children true": lambda d: d["objectives"][3].update(include_children=True),
    "progress settings": lambda d: d["objectives"][3].update(
        progress_settings={"unit": "u1", "auto": True}),
    "progress settings of a new unit first": lambda d: (
        d["objectives"][0].update(progress_settings={"unit": "goal", "target": 10}),
        d["objectives"][5].update(progress_settings={"unit": "u2", "target": 3, "start": 1})),
    "progress settings without target": lambda d: d["objectives"][3].update(
        progress_settings={"unit": "u1"}),
    "progress settings auto 1": lambda d: d["objectives"][3].update(
        progress_settings={"unit": "u1", "auto": 1}),
    "progress settings unit empty": lambda d: d["objectives"][3].update(
        progress_settings={"unit": "", "target": 1}),
    "progress settings unit missing": lambda d: d["objectives"][3].update(
        progress_settings={"target": 1}),
    "progress settings unknown field": lambda d: d["objectives"][3].update(
        progress_settings={"unit": "u1", "target": 1, "goal": 2}),
    "progress settings target text": lambda d: d["objectives"][3].update(
        progress_settings={"unit": "u1", "target": "1"}),
    "progress settings a list": lambda d: d["objectives"][3].update(progress_settings=[]),
    "name a number": lambda d: d["objectives"][3].update(name=5),
    "name": lambda d: d["objectives"][3].update(name="Grow"),
    "key_results an object": lambda d: d["objectives"][3].update(key_results={}),
    "key_results empty": lambda d: d["objectives"][3].update(key_results=[]),
    "kr a string": lambda d: d["objectives"][3]["key_results"].append("k"),
    "kr kind unknown": lambda d: d["objectives"][3]["key_results"][0].update(kind="percent"),
    "kr kind missing": lambda d: d["objectives"][3]["key_results"][0].pop("kind"),
    "kr unknown field": lambda d: _kr(d, "binary").update(colour=1),
    "kr field of another kind": lambda d: _kr(d, "binary").update(target=1),
    "kr id twice": lambda d: _kr(d, "binary").update(
        id=d["objectives"][0]["key_results"][0]["id"]),
    "kr id empty": lambda d: _kr(d, "binary").update(id=""),
    "kr owners a string": lambda d: _kr(d, "binary").update(owners="p1"),
    "kr owners empty name": lambda d: _kr(d, "binary").update(owners=["p1", ""]),
    "kr owners null name": lambda d: _kr(d, "binary").update(owners=[None]),
    "kr owners empty list": lambda d: _kr(d, "binary").update(owners=[]),
    "kr owners": lambda d: _kr(d, "binary").update(owners=["p9", "p1"]),
    "kr weight negative": lambda d: _kr(d, "binary").update(weight=-2),
    "kr weight zero": lambda d: _kr(d, "binary").update(weight=0),
    "kr due a date": lambda d: _kr(d, "binary").update(due="2026-03-01"),
    "kr due": lambda d: _kr(d, "binary").update(due="2026-03-01T10:00:00Z"),
    "binary done 1": lambda d: _kr(d, "binary", check_ins=False).update(done=1),
    "binary done beside check-ins": lambda d: _kr(d, "binary", check_ins=True).update(
        done=True),
    "binary check-in a number": lambda d: _kr(d, "binary", check_ins=True)["check_ins"][0]
    .update(done=1),
    "check-in unknown field": lambda d: _kr(d, "binary", check_ins=True)["check_ins"][0]
    .update(note="x"),
    "check-in value missing": lambda d: _kr(d, "binary", check_ins=True)["check_ins"][0]
    .pop("done"),
    "check-in at missing": lambda d: _kr(d, "binary", check_ins=True)["check_ins"][0]
    .pop("at"),
    "check-in at a date": lambda d: _kr(d, "binary", check_ins=True)["check_ins"][0]
    .update(at="2026-01-03"),
    "check-in a list": lambda d: _kr(d, "binary", check_ins=True)["check_ins"].append([]),
    "check-ins empty": lambda d: _kr(d, "binary", check_ins=True).update(check_ins=[]),
    "check-ins an object": lambda d: _kr(d, "binary", check_ins=True).update(check_ins={}),
    "check-ins out of order": lambda d: _kr(d, "metric", check_ins=True)["check_ins"]
    .reverse(),
    "metric target missing": lambda d: _kr(d, "metric").pop("target"),
    "metric target null": lambda d: _kr(d, "metric").update(target=None),
    "metric target equals start": lambda d: _kr(d, "metric", ranged=False).update(
        target=0.0, start=0.0),
    "metric reduction": lambda d: _kr(d, "metric", ranged=False).update(target=-5),
    "metric target text": lambda d: _kr(d, "metric").update(target="5"),
    "metric unit a number": lambda d: _kr(d, "metric").update(unit=1),
    "metric unit empty": lambda d: _kr(d, "metric").update(unit=""),
    "metric unit null": lambda d: _kr(d, "metric").update(unit=None),
    "metric current beside check-ins": lambda d: _kr(d, "metric", check_ins=True).update(
        current=3),
    "metric current huge": lambda d: _kr(d, "metric", check_ins=False).update(
        current=10**400),
    "metric check-in true": lambda d: _kr(d, "metric", check_ins=True)["check_ins"][0]
    .update(value=True),
    "range out of order": lambda d: _kr(d, "metric", ranged=True)["range"].update(
        red_low=10**6),
    "range unknown field": lambda d: _kr(d, "metric", ranged=True)["range"].update(x=1),
    "range mode unknown": lambda d: _kr(d, "metric", ranged=True)["range"].update(
        mode="wide"),
    "range mode graded": lambda d: _kr(d, "metric", ranged=True)["range"].update(
        mode="graded"),
    "range bounds absent": lambda d: _kr(d, "metric", ranged=True).update(range={}),
    "range a list": lambda d: _kr(d, "metric", ranged=True).update(range=[]),
    "range linear degenerate": lambda d: _kr(d, "metric", ranged=False).update(
        start=1, target=1, range={"mode": "linear"}),
    "range band equal": lambda d: _kr(d, "metric", ranged=False).update(
        start=1, target=1, range={"mode": "band"}),
    "staged done beyond total": lambda d: _staged(d).update(stages_done=99),
    "staged done fraction": lambda d: _staged(d).update(stages_done=1.5),
    "staged total zero": lambda d: _staged(d).update(stages_total=0, stages_done=0),
    "staged total fraction": lambda d: _staged(d).update(stages_total=2.5),
    "staged total float": lambda d: _staged(d).update(stages_total=5.0),
    "staged with done": lambda d: _staged(d).update(done=True),
    "stages_done without total": lambda d: _staged(d).pop("stages_total"),
    "checkpoints": lambda d: _staged(d).update(
        checkpoints=[{"name": "a", "done": True}]),
    "staged check-in beyond": lambda d: _kr(d, "milestone", check_ins=True)["check_ins"][0]
    .update(stages_done=99),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_is_declined_or_read_as_usual(fault: str) -> None:
    data = _flat()
    FAULTS[fault](data)
    check_text(json.dumps(data))


def test_faults_the_loader_accepts_are_read() -> None:
    for fault in ("weight an int", "weight null", "kr owners", "progress settings",
                  "progress settings of a new unit first", "range mode graded", "parent given",
                  "status set", "staged total float", "metric reduction", "kr due"):
        data = _flat()
        FAULTS[fault](data)
        assert check_text(json.dumps(data)), fault


def test_the_faults_the_loader_reports_are_declined() -> None:
    for fault, change in FAULTS.items():
        data = _flat()
        change(data)
        text = json.dumps(data)
        try:
            reported = not _clean(okrcore.loads(text))
        except okrcore.DocumentError:
            reported = True
        if reported:
            assert read_columns(text) is None, fault


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = cli.main(argv)
    out = capsys.readouterr()
    return status, out.out, out.err


@pytest.mark.parametrize("fault", [None, "unknown top field", "objective id twice",
                                   "parent unknown", "parent cycle", "parent given",
                                   "weight negative", "due before start", "start a date",
                                   "metric current beside check-ins", "range out of order",
                                   "staged done beyond total", "as_of missing",
                                   "kr owners", "status set", "weight huge"])
@pytest.mark.parametrize("options", [[], ["--strict"], ["--indent", "0"],
                                     ["--engine", "batch"]])
def test_the_command_prints_the_same_with_or_without_the_reader(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        fault: str | None, options: list[str]) -> None:
    data = _flat()
    if fault is not None:
        FAULTS[fault](data)
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(data))
    argv = ["evaluate", str(path), *options]
    used = _run(argv, capsys)
    calls: list[object] = []
    monkeypatch.setattr(cli, "read_columns", lambda text: calls.append(text))
    usual = _run(argv, capsys)
    assert used == usual
    assert calls  # the usual run did ask the reader (and was told no)
    scalar = _run([*argv, "--engine", "scalar"], capsys)
    assert scalar == usual


def test_the_reader_is_used_on_a_large_clean_document(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(_flat()))
    monkeypatch.setattr(cli, "loads", lambda text: pytest.fail("the usual loader ran"))
    status, out, _ = _run(["evaluate", str(path)], capsys)
    assert status == 0 and json.loads(out)["okrcore"] == 1


def test_a_small_document_on_auto_takes_the_scalar_path(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _flat(16)  # 32 items: below AUTO_BATCH_FROM
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(data))
    assert read_columns(path.read_bytes()) is not None
    ran: list[str] = []
    real = okrcore.evaluate

    def scalar(document: okrcore.Document) -> okrcore.Evaluation:
        ran.append("scalar")
        return real(document)

    monkeypatch.setattr("okrcore.cli.evaluate", scalar)
    status, out, _ = _run(["evaluate", str(path)], capsys)
    assert status == 0 and ran == ["scalar"]
    assert out == okrcore.dumps_result(okrcore.evaluate(okrcore.loads(json.dumps(data)))) + "\n"
