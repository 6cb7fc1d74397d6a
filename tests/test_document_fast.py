"""Single documents (issue 19): the fast conversion and result document equal the object path.

* ``OrgFrame.from_document`` (one walk, one array per column) builds the same frame as the
  conversion of issue 18, kept here as :func:`reference_frame` (the oracle);
* :func:`okrcore.batch.result_json` writes the same bytes as ``json.dumps`` of
  ``to_evaluation``'s result document, on the conformance vectors, the synthetic organisation,
  hostile and hypothesis-generated documents, at every indent the command line offers;
* ``engine="auto"`` picks each engine by size and the result is the same either way.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import okrcore
from okrcore import errors as E
from okrcore import kinds
from okrcore.batch import (
    AUTO_BATCH_FROM,
    OrgFrame,
    choose_engine,
    evaluate_batch,
    evaluate_frame,
    evaluate_json,
    result_json,
    to_evaluation,
)
from okrcore.batch._json import _fill, _fill_each, _number_texts, result_text
from okrcore.batch.frame import (
    AMBITION_CODES,
    LOAD_DUPLICATE,
    LOAD_INVALID,
    LOAD_OK,
    MODE_CODES,
    NONE_INSTANT,
    STATUS_CODES,
)
from okrcore.cli import main
from okrcore.codes import AMBITION_COMMITTED, MODE_AUTO, STATUS_NONE
from okrcore.conformance.vectors import load_vectors
from okrcore.evaluate import instant_us
from okrcore.model import Document, InvalidKeyResult, InvalidObjective, Objective
from strategies import documents

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))


def reference_frame(document: Document) -> OrgFrame:
    """``OrgFrame.from_document`` as it was before issue 19 (a list append per field)."""
    people: dict[str, int] = {}
    units: dict[str, int] = {"": -1}

    def person(name: str | None) -> int:
        if name is None:
            return -1
        return people.setdefault(name, len(people))

    def unit(name: str) -> int:
        if name not in units:
            units[name] = len(units) - 1
        return units[name]

    kr_cols: dict[str, list[Any]] = {k: [] for k in (
        "kr_objective", "kr_kind", "kr_start", "kr_target", "kr_current", "kr_weight",
        "kr_unit", "kr_range_mode", "kr_red_low", "kr_yellow_low", "kr_yellow_high",
        "kr_red_high", "kr_due", "kr_has_log", "kr_load")}
    log_kr: list[int] = []
    log_at: list[int] = []
    log_value: list[float] = []
    offsets = [0]
    owner_ids: list[int] = []
    kr_ids: list[str] = []
    obj_cols: dict[str, list[Any]] = {k: [] for k in (
        "obj_weight", "obj_start", "obj_due", "obj_mode", "obj_ambition", "obj_status",
        "obj_include_children", "obj_owner", "obj_ps_unit", "obj_ps_target", "obj_ps_auto",
        "obj_ps_start", "obj_load")}
    obj_ids: list[str] = []
    parents: list[str | None] = []
    load_errors: dict[str, tuple[E.OkrError, ...]] = {}
    seen_obj: set[str] = set()
    seen_kr: set[str] = set()
    nan = float("nan")

    for i, obj in enumerate(document.objectives):
        valid = isinstance(obj, Objective)
        load = LOAD_OK
        if isinstance(obj, InvalidObjective):
            load = LOAD_INVALID
            load_errors[f"o{i}"] = obj.errors
        elif obj.id in seen_obj:
            load = LOAD_DUPLICATE
        if obj.id is not None:
            seen_obj.add(obj.id)
        obj_ids.append(obj.id or "")
        parents.append(obj.parent if load == LOAD_OK else None)
        o = obj if isinstance(obj, Objective) else None
        settings = o.progress_settings if o is not None else None
        obj_cols["obj_weight"].append(float(obj.weight) if valid else 1.0)
        obj_cols["obj_start"].append(
            instant_us(o.start) if o is not None and o.start is not None else NONE_INSTANT)
        obj_cols["obj_due"].append(
            instant_us(o.due) if o is not None and o.due is not None else NONE_INSTANT)
        obj_cols["obj_mode"].append(MODE_CODES[o.mode] if o is not None else MODE_AUTO)
        obj_cols["obj_ambition"].append(AMBITION_CODES[o.ambition] if o is not None
                                       else AMBITION_COMMITTED)
        obj_cols["obj_status"].append(
            STATUS_CODES[o.status] if o is not None and o.status is not None else STATUS_NONE)
        obj_cols["obj_include_children"].append(bool(o.include_children) if o else False)
        obj_cols["obj_owner"].append(person(obj.owner))
        obj_cols["obj_ps_unit"].append(unit(settings.unit) if settings is not None else -1)
        obj_cols["obj_ps_target"].append(
            float(settings.target) if settings is not None and settings.target is not None
            else nan)
        obj_cols["obj_ps_auto"].append(bool(settings.auto) if settings is not None else False)
        obj_cols["obj_ps_start"].append(
            float(settings.start) if settings is not None and settings.start is not None
            else nan)
        obj_cols["obj_load"].append(load)
        default_owner = (obj.owner,) if obj.owner else ()
        for kr in obj.key_results:
            row = len(kr_ids)
            kr_cols["kr_objective"].append(i)
            kr_ids.append(kr.id or "")
            kr_load = LOAD_OK
            if isinstance(kr, InvalidKeyResult):
                kr_load = LOAD_INVALID
                load_errors[f"k{row}"] = kr.errors
            elif kr.id in seen_kr:
                kr_load = LOAD_DUPLICATE
            else:
                seen_kr.add(kr.id)
            kr_cols["kr_load"].append(kr_load)
            for name in (kr.owners or default_owner):
                owner_ids.append(person(name))
            offsets.append(len(owner_ids))
            if isinstance(kr, InvalidKeyResult):
                row_of = kinds.placeholder()
                due, history = NONE_INSTANT, None
            else:
                row_of = kinds.kind_of(kr).encode(kr, unit)
                due = NONE_INSTANT if kr.due is None else instant_us(kr.due)
                history = kr.check_ins
            kr_cols["kr_kind"].append(row_of.kind)
            kr_cols["kr_start"].append(row_of.start)
            kr_cols["kr_target"].append(row_of.target)
            kr_cols["kr_current"].append(row_of.current)
            kr_cols["kr_weight"].append(float(kr.weight))
            kr_cols["kr_unit"].append(row_of.unit)
            kr_cols["kr_range_mode"].append(row_of.range_mode)
            for name, value in zip(("kr_red_low", "kr_yellow_low", "kr_yellow_high",
                                    "kr_red_high"), row_of.bounds, strict=True):
                kr_cols[name].append(value)
            kr_cols["kr_due"].append(due)
            kr_cols["kr_has_log"].append(history is not None)
            for entry in history or ():
                log_kr.append(row)
                log_at.append(instant_us(entry.at))
                log_value.append(float(entry.value))

    index = {}
    for i, ident in enumerate(obj_ids):
        if ident and ident not in index:
            index[ident] = i
    obj_parent = [
        -1 if p is None else index.get(p, -2) for p in parents
    ]
    people_list = sorted(people, key=people.__getitem__)
    unit_list = [u for u, _ in sorted(((u, c) for u, c in units.items() if c >= 0),
                                      key=lambda uc: uc[1])]
    dtypes = {
        "kr_objective": np.int64, "kr_kind": np.uint8, "kr_unit": np.int32,
        "kr_range_mode": np.uint8, "kr_due": np.int64, "kr_has_log": np.bool_,
        "kr_load": np.uint8, "obj_start": np.int64, "obj_due": np.int64,
        "obj_mode": np.uint8, "obj_ambition": np.uint8, "obj_status": np.int8,
        "obj_include_children": np.bool_, "obj_owner": np.int32, "obj_ps_unit": np.int32,
        "obj_ps_auto": np.bool_, "obj_load": np.uint8,
    }
    arrays: dict[str, Any] = {k: np.asarray(v, dtype=dtypes.get(k, np.float64))
              for k, v in {**kr_cols, **obj_cols}.items()}
    frame = OrgFrame.from_columns(
        **arrays,
        obj_parent=np.asarray(obj_parent, dtype=np.int64),
        log_kr=np.asarray(log_kr, dtype=np.int64),
        log_at=np.asarray(log_at, dtype=np.int64),
        log_value=np.asarray(log_value, dtype=np.float64),
        kr_owner_offsets=np.asarray(offsets, dtype=np.int64),
        kr_owner_ids=np.asarray(owner_ids, dtype=np.int32),
        kr_ids=kr_ids, obj_ids=obj_ids, person_names=people_list, unit_names=unit_list,
        obj_parent_names=parents,
    )
    return attrs.evolve(frame, load_errors=load_errors, validated=True)


def assert_same_frame(expected: OrgFrame, got: OrgFrame) -> None:
    """Every field equal: arrays by dtype, shape and value (NaN equal to NaN), labels as lists."""
    for field in attrs.fields(OrgFrame):
        a, b = getattr(expected, field.name), getattr(got, field.name)
        if isinstance(a, np.ndarray):
            assert isinstance(b, np.ndarray), field.name
            assert a.dtype == b.dtype and a.shape == b.shape, field.name
            assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), field.name
        elif isinstance(a, list | tuple):
            assert list(a) == list(b), field.name
        else:
            assert a == b, field.name


def _corpus() -> list[tuple[str, Document]]:
    from synthetic import synthetic_document

    cases = [(f"vector/{v.full_id}", Document.from_dict(dict(v.document)))
             for v in load_vectors()]
    cases.append(("synthetic/600", Document.from_dict(synthetic_document(600, seed=3))))
    from okrcore.sample import generate_organisation

    cases.append(("sample", generate_organisation()))
    return cases


CORPUS = _corpus()


def _object_path(document: Document, indent: int | None) -> str:
    """The result document as the command line wrote it before issue 19."""
    frame = reference_frame(document)
    evaluation = to_evaluation(frame, evaluate_frame(frame, instant_us(document.as_of),
                                                     document.policy))
    if document.warnings:
        evaluation = attrs.evolve(evaluation, warnings=document.warnings)
    return json.dumps(evaluation.to_dict(), indent=indent, allow_nan=False)


@pytest.mark.parametrize(("name", "document"), CORPUS, ids=[n for n, _ in CORPUS])
def test_the_frame_equals_the_issue_18_conversion(name: str, document: Document) -> None:
    assert_same_frame(reference_frame(document), OrgFrame.from_document(document))


@pytest.mark.parametrize(("name", "document"), CORPUS, ids=[n for n, _ in CORPUS])
def test_result_json_is_the_object_paths_bytes(name: str, document: Document) -> None:
    frame = OrgFrame.from_document(document)
    result = evaluate_frame(frame, instant_us(document.as_of), document.policy)
    for indent in (2, None, 1, 4):
        expected = _object_path(document, indent)
        assert result_json(frame, result, document.warnings, indent) == expected
        assert evaluate_json(document, indent=indent, engine="batch") == expected
        assert evaluate_json(document, indent=indent, engine="scalar") == expected
    # the columns path wrote it itself (no fallback) on every document of the corpus
    assert result_text(frame, result, document.warnings, 2) == _object_path(document, 2)


def test_the_corpus_covers_what_result_json_writes_itself() -> None:
    # sum and mean rollups written from columns, explained rollups (children, include
    # children, empty), errors, warnings, manual statuses, range key results, forecasts
    texts = "\n".join(_object_path(d, 2) for _, d in CORPUS)
    for needle in ('"mode": "sum"', '"rule": "children"', '"rule": "empty"',
                   '"source": "manual"', '"source": "breakpoint"', '"forecast": {',
                   "aligned children count as items too", '"code": "unknown_field"',
                   '"code": "depends_on_invalid"', '"target_rule": "fixed"'):
        assert needle in texts, needle


@settings(max_examples=60)
@given(document=documents(), indent=st.sampled_from([2, None]))
def test_result_json_equals_the_object_path_on_generated_documents(document: Document,
                                                                 indent: int | None) -> None:
    assert_same_frame(reference_frame(document), OrgFrame.from_document(document))
    expected = _object_path(document, indent)
    assert evaluate_json(document, indent=indent, engine="batch") == expected
    # and the scalar reference prints the same
    assert json.dumps(okrcore.evaluate(document).to_dict(), indent=indent,
                      allow_nan=False) == expected


@settings(max_examples=40)
@given(data=st.data())
def test_hostile_documents_give_the_same_frame_and_bytes(data: st.DataObject) -> None:
    from hostile import documents as hostile_documents

    try:
        document = Document.from_dict(data.draw(hostile_documents()))
    except E.DocumentError:
        return  # not a document at all: nothing to evaluate (tests/test_hostile.py)
    assert_same_frame(reference_frame(document), OrgFrame.from_document(document))
    try:
        expected = _object_path(document, 2)
    except ValueError:  # a number JSON cannot hold: both paths refuse it
        with pytest.raises(ValueError):
            evaluate_json(document, engine="batch")
        return
    assert evaluate_json(document, engine="batch") == expected


def _document(n_objectives: int, krs_each: int) -> Document:
    return Document.from_dict({
        "okrcore": 1, "as_of": "2026-02-15",
        "objectives": [
            {"id": f"o{i}", "start": "2026-01-01", "due": "2026-03-31",
             "key_results": [{"id": f"k{i}.{j}", "kind": "metric", "start": 0, "target": 10,
                              "current": i + j} for j in range(krs_each)]}
            for i in range(n_objectives)]})


def test_auto_picks_the_scalar_path_below_the_threshold_and_batch_from_it() -> None:
    assert AUTO_BATCH_FROM == 64
    small = _document(AUTO_BATCH_FROM // 4, 2)  # 16 objectives + 32 key results = 48 items
    just_below = _document(1, AUTO_BATCH_FROM - 2)  # 63 items
    at = _document(1, AUTO_BATCH_FROM - 1)  # 64 items
    large = _document(40, 3)  # 160 items
    assert choose_engine(Document.from_dict({"okrcore": 1, "as_of": "2026-02-15"})) == "scalar"
    assert [choose_engine(d) for d in (small, just_below, at, large)] == [
        "scalar", "scalar", "batch", "batch"]
    for document in (small, just_below, at, large):
        expected = json.dumps(okrcore.evaluate(document).to_dict(), indent=2)
        assert evaluate_json(document) == expected
        assert evaluate_batch(document, engine="auto") == okrcore.evaluate(document)
        assert evaluate_batch(document, engine="scalar") == evaluate_batch(document)


def test_auto_runs_the_engine_it_picks(monkeypatch: pytest.MonkeyPatch) -> None:
    import okrcore.batch as batch

    scalar = sys.modules["okrcore.evaluate"]  # (okrcore.evaluate is also the function)

    ran: list[str] = []
    real_frame, real_scalar = batch.evaluate_frame, scalar.evaluate

    def frame_spy(*args: Any, **kwargs: Any) -> Any:
        ran.append("batch")
        return real_frame(*args, **kwargs)

    def scalar_spy(document: Document) -> Any:
        ran.append("scalar")
        return real_scalar(document)

    monkeypatch.setattr(batch, "evaluate_frame", frame_spy)
    monkeypatch.setattr(scalar, "evaluate", scalar_spy)
    evaluate_json(_document(2, 2))
    evaluate_json(_document(30, 2))
    assert ran == ["scalar", "batch"]


def test_an_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="engine must be one of auto, batch, scalar; got 'gpu'"):
        evaluate_json(_document(1, 1), engine="gpu")


@pytest.mark.parametrize("size", [(2, 2), (30, 3)])
@pytest.mark.parametrize("indent", ["2", "0", "4"])
def test_the_command_prints_the_same_bytes_with_every_engine(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], size: tuple[int, int],
        indent: str) -> None:
    path = tmp_path / "doc.json"
    document = _document(*size)
    okrcore.dump(document, path)
    printed = []
    for engine in ("auto", "scalar", "batch"):
        assert main(["evaluate", str(path), "--engine", engine, "--indent", indent]) == 0
        printed.append(capsys.readouterr().out)
    expected = json.dumps(okrcore.evaluate(document).to_dict(), indent=int(indent) or None)
    assert printed == [expected + "\n"] * 3


def test_strict_counts_the_errors_with_the_batch_engine(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = okrcore.dumps(_document(30, 3))
    doc = json.loads(data)
    doc["objectives"][0]["parent"] = "nowhere"  # unknown_parent, and its KRs depend on it
    doc["objectives"][1]["colour"] = "blue"  # an unknown field: a warning
    path = tmp_path / "doc.json"
    path.write_text(json.dumps(doc))
    for engine in ("scalar", "batch"):
        assert main(["evaluate", str(path), "--engine", engine, "--strict"]) == 1
        err = capsys.readouterr().err
        assert err == f"okrcore: {path}: --strict: 1 error and 1 warning\n"


@pytest.mark.parametrize("seed", [0, 1])
def test_result_json_of_a_frame_built_from_columns(seed: int) -> None:
    # no labels: ids, people and units are named by their rows, as to_evaluation names them
    from synthetic import AS_OF_US, synthetic_columns

    frame = OrgFrame.from_columns(**synthetic_columns(3_000, seed))
    result = evaluate_frame(frame, AS_OF_US)
    expected = json.dumps(to_evaluation(frame, result).to_dict(), indent=2, allow_nan=False)
    assert result_text(frame, result) == expected
    assert result_json(frame, result, indent=None) == json.dumps(
        to_evaluation(frame, result).to_dict(), allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([0.0, -0.0, 0.1, 1.0, 1e-07, 2.5e300, float("nan"), 1 / 3]),
                max_size=200),
       st.lists(st.floats(allow_infinity=False), max_size=200))
def test_number_texts_are_repr_of_each_value(few: list[float], many: list[float]) -> None:
    """Each distinct value written once gives ``repr`` of every value (NaN as given)."""
    repeated = [0.1, 1.0, float("nan"), 1 / 3, 0.0, 5e-324] * 20  # distinct values once
    for values in (few, many, few + many, repeated, [*repeated, -0.0]):
        expected = [repr(v) for v in values]
        assert _number_texts(np.array(values, np.float64), "nan") == expected
        assert _number_texts(values, "null") == ["null" if t == "nan" else t for t in expected]


@given(st.lists(st.tuples(st.text(), st.text()), min_size=1, max_size=50))
def test_fill_is_a_format_per_row(rows: list[tuple[str, str]]) -> None:
    template = '{"a": %s, "b": [%s]}'
    columns = list(zip(*rows, strict=True))
    assert _fill(template, columns, len(rows), ",\n") == ",\n".join(template % r for r in rows)
    clean = [(a.replace("\0", ""), b.replace("\0", "")) for a, b in rows]
    assert _fill_each(template, list(zip(*clean, strict=True)), len(clean)) == [
        template % r for r in clean]
