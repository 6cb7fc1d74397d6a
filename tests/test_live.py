"""okrcore.live: an organisation in memory, updated per check-in or edit, equals a full one.

Properties: after random sequences of check-ins and edits, every result column of the live
organisation equals a full ``evaluate_frame`` of its frame (bit for bit, NaN equal to NaN), its
evaluation equals ``okrcore.evaluate`` of its document (which the suite's conftest also checks
against the batch engine), and each update's :class:`~okrcore.live.Changes` holds exactly the
results that differ from before.  Oracles: a check-in worked by hand from SEMANTICS §2-§5.
Bad input: structured errors, and the organisation stays as it was.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import okrcore
from conftest import first_difference
from okrcore import Document, OkrValueError
from okrcore import errors as E
from okrcore.batch import BatchResult, OrgFrame, evaluate_frame, kernels_available
from okrcore.batch import pipeline as batch_pipeline
from okrcore.evaluate import instant_us
from okrcore.live import Changes, LiveOrganisation
from okrcore.model import Binary, Metric, Milestone
from strategies import (
    PEOPLE,
    UNITS,
    documents,
    instants,
    numbers,
    owners,
    timelines,
    weights,
)
from strategies import settings as progress_settings

# --- helpers ---------------------------------------------------------------------------------


def changed_rows(old: np.ndarray[Any, Any], new: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Where two columns differ bit for bit (-0.0 is not 0.0), any NaN equal to NaN."""
    if old.dtype.kind != "f":
        diff: np.ndarray[Any, Any] = old != new
        return diff
    bits: np.ndarray[Any, Any] = old.view(np.int64) != new.view(np.int64)
    out: np.ndarray[Any, Any] = bits & ~(np.isnan(old) & np.isnan(new))
    return out


def assert_same_columns(a: BatchResult, b: BatchResult) -> None:
    """Every column equal, bit for bit (NaN equal to NaN)."""
    for field in attrs.fields(BatchResult):
        x, y = getattr(a, field.name), getattr(b, field.name)
        if isinstance(x, np.ndarray):
            assert x.dtype == y.dtype, field.name
            assert x.shape == y.shape, field.name
            assert not changed_rows(x, y).any(), field.name


def assert_changes_exact(changes: Changes, before: okrcore.Evaluation, after: okrcore.Evaluation,
                         old: BatchResult, new: BatchResult) -> None:
    """``changes`` holds exactly the results that differ, with their new values."""
    for kind in ("key_results", "objectives", "people"):
        was, now = getattr(before, kind), getattr(after, kind)
        # (by repr: floats written exactly, -0.0 is not 0.0, as in the result document)
        differing = {i for i in (*was, *now) if repr(was.get(i)) != repr(now.get(i))}
        got = getattr(changes, kind)
        assert set(got) == differing, kind
        for ident in differing:
            assert repr(got[ident]) == repr(now.get(ident)), (kind, ident)
    for prefix, rows in (("kr_", changes.kr_rows), ("obj_", changes.objective_rows),
                         ("person_", changes.person_rows)):
        names = [f.name for f in attrs.fields(BatchResult) if f.name.startswith(prefix)]
        length = getattr(new, names[0]).shape[0]
        diff = np.zeros(length, dtype=bool)
        for name in names:
            a, b = getattr(old, name), getattr(new, name)
            if a.shape[0] < length:  # people added by an owner change
                fill = {"person_progress": np.nan, "person_items": 0, "person_error_ref": -1,
                        "person_seen": False}[name]
                a = np.concatenate([a, np.full(length - a.shape[0], fill, dtype=a.dtype)])
            diff |= changed_rows(a, b)
        assert rows.tolist() == np.flatnonzero(diff).tolist(), prefix


def assert_matches_full(live: LiveOrganisation) -> None:
    """The live organisation equals a full evaluation of what it holds now."""
    full = evaluate_frame(live.frame(), live.as_of, live.policy)
    assert_same_columns(live.result(), full)
    if live.has_document:
        expected = okrcore.evaluate(live.document())  # (conftest: also batch == scalar)
        difference = first_difference(expected.to_json(), live.evaluation().to_json())
        assert difference is None, difference
        # the same document, in the same order (a patched evaluation keeps document order)
        assert json.dumps(expected.to_json()) == json.dumps(live.evaluation().to_json())
    # one item at a time, from its region's kept columns, as the whole evaluation holds it
    evaluation, frame = live.evaluation(), live.frame()
    for ident in {i for i in frame.kr_ids or () if i}:
        assert repr(live.key_result(ident)) == repr(evaluation.key_results.get(ident)), ident
    for ident in {i for i in frame.obj_ids or () if i}:
        assert repr(live.objective(ident)) == repr(evaluation.objectives.get(ident)), ident
    for name in frame.person_names or ():
        assert repr(live.person(name)) == repr(evaluation.people.get(name)), name


def apply(live: LiveOrganisation, call: Any) -> Changes | None:
    """Run one update; on a refusal check that nothing changed.  The Changes, or None."""
    before_eval = live.evaluation()
    before = live.result()
    before_doc = live.document() if live.has_document else None
    try:
        changes: Changes = call()
    except OkrValueError as error:
        assert error.code in E.ERROR_CODES
        assert error.field
        assert_same_columns(live.result(), before)
        assert live.evaluation() == before_eval
        if before_doc is not None:
            assert live.document() == before_doc
        return None
    after = live.result()
    assert_matches_full(live)
    assert_changes_exact(changes, before_eval, live.evaluation(), before, after)
    return changes


# --- random updates --------------------------------------------------------------------------


def _check_in_value(data: st.DataObject, kr: Any) -> Any:
    if isinstance(kr, Binary) or (isinstance(kr, Milestone) and kr.stages_total is None):
        return data.draw(st.booleans())
    if isinstance(kr, Milestone):
        return data.draw(st.integers(0, kr.stages_total))
    return data.draw(numbers)


def _explicit_current(kr: Any) -> dict[str, Any]:
    """The fields that clear a key result's explicit current value (none when it has none)."""
    if isinstance(kr, Metric):
        return {"current": None} if kr.current is not None else {}
    if isinstance(kr, Milestone) and kr.stages_total is not None:
        return {"stages_done": None} if kr.stages_done is not None else {}
    return {"done": None} if getattr(kr, "done", None) is not None else {}


def _kr_fields(data: st.DataObject, kr: Any) -> dict[str, Any]:
    choices: list[tuple[str, st.SearchStrategy[Any]]] = [
        ("weight", weights), ("owners", owners), ("due", st.none() | instants)]
    if isinstance(kr, Metric):
        choices += [("target", numbers), ("start", numbers), ("unit", st.sampled_from(UNITS))]
        if kr.check_ins is None:
            choices.append(("current", st.none() | numbers))
    elif isinstance(kr, Binary) and kr.check_ins is None:
        choices.append(("done", st.none() | st.booleans()))
    picked = data.draw(st.lists(st.sampled_from(choices), min_size=1, max_size=2,
                                unique_by=lambda c: c[0]))
    return {name: data.draw(strategy) for name, strategy in picked}


def _objective_fields(data: st.DataObject) -> dict[str, Any]:
    choices: list[tuple[str, st.SearchStrategy[Any]]] = [
        ("weight", weights),
        ("status", st.none() | st.sampled_from(("on_track", "behind", "at_risk", "off_track"))),
        ("ambition", st.sampled_from(("committed", "aspirational"))),
        ("mode", st.sampled_from(("auto", "mean", "sum"))),
        ("include_children", st.booleans()),
        ("owner", st.none() | st.sampled_from(PEOPLE)),
        ("progress_settings", st.none() | progress_settings()),
        ("timeline", timelines()),
    ]
    picked = data.draw(st.lists(st.sampled_from(choices), min_size=1, max_size=2,
                                unique_by=lambda c: c[0]))
    fields = {name: data.draw(strategy) for name, strategy in picked}
    if "timeline" in fields:
        fields["start"], fields["due"] = fields.pop("timeline")
    return fields


def random_update(live: LiveOrganisation, data: st.DataObject) -> None:
    doc = live.document()
    krs = {str(kr.id): kr for o in doc.objectives for kr in o.key_results}
    what = data.draw(st.sampled_from(("check_in", "check_in", "edit_kr", "edit_objective"))
                     if krs else st.just("edit_objective"))
    if what == "edit_objective":
        obj = data.draw(st.sampled_from([str(o.id) for o in doc.objectives]))
        fields = _objective_fields(data)
        apply(live, lambda: live.edit_objective(obj, **fields))
        return
    ident = data.draw(st.sampled_from(sorted(krs)))
    kr = krs[ident]
    if what == "edit_kr":
        fields = _kr_fields(data, kr)
        apply(live, lambda: live.edit_key_result(ident, **fields))
        return
    clear = _explicit_current(kr)
    if clear and data.draw(st.booleans()):  # type: ignore[arg-type]
        apply(live, lambda: live.edit_key_result(ident, **clear))
        kr = {k.id: k for o in live.document().objectives for k in o.key_results}[ident]
    at, value = data.draw(instants), _check_in_value(data, kr)
    apply(live, lambda: live.check_in(ident, at, value))


@settings(max_examples=60)
@given(doc=documents(), data=st.data())
def test_updates_equal_a_full_evaluation_of_the_changed_document(doc: Document,
                                                                 data: st.DataObject) -> None:
    live = LiveOrganisation.from_document(doc)
    assert_matches_full(live)
    for _ in range(data.draw(st.integers(1, 4))):
        random_update(live, data)


def _frame_update(live: LiveOrganisation, frame: OrgFrame, data: st.DataObject,
                  ) -> None:
    kr_ids = list(frame.kr_ids or ())
    if kr_ids and data.draw(st.booleans()):  # type: ignore[arg-type]
        ident = data.draw(st.sampled_from(kr_ids))
        if data.draw(st.booleans()):
            at = data.draw(st.integers(live.as_of - 200 * 86_400 * 10**6,
                                       live.as_of + 86_400 * 10**6))
            number = data.draw(numbers)
            apply(live, lambda: live.check_in(ident, at, number))
        else:
            name = data.draw(st.sampled_from(("start", "target", "current", "weight",
                                              "red_low", "yellow_high", "owners")))
            value: Any = data.draw({"weight": weights, "current": st.none() | numbers,
                               "red_low": st.none() | numbers,
                               "yellow_high": st.none() | numbers,
                               "owners": owners.map(list)}.get(name, numbers))
            apply(live, lambda: live.edit_key_result(ident, **{name: value}))
    else:
        obj = data.draw(st.sampled_from(list(frame.obj_ids or ())))
        name = data.draw(st.sampled_from(("weight", "mode", "status", "owner", "ambition")))
        setting: Any = data.draw({
                           "weight": weights, "mode": st.sampled_from(("auto", "mean", "sum")),
                           "status": st.none() | st.sampled_from(("on_track", "behind")),
                           "owner": st.none() | st.sampled_from(PEOPLE),
                           "ambition": st.sampled_from(("committed", "aspirational"))}[name])
        apply(live, lambda: live.edit_objective(obj, **{name: setting}))


@settings(max_examples=40)
@given(doc=documents(), data=st.data())
def test_updates_of_columns_equal_evaluate_frame(doc: Document, data: st.DataObject) -> None:
    # a frame of plain columns: the engine validates rows, an edit that breaks one is refused
    frame = attrs.evolve(OrgFrame.from_document(doc), validated=False)
    live = LiveOrganisation(frame, doc.as_of, doc.policy)
    assert_matches_full(live)
    for _ in range(data.draw(st.integers(1, 4))):
        _frame_update(live, frame, data)


@pytest.mark.skipif("numba" not in kernels_available(), reason="the fast extra")
@settings(max_examples=15)
@given(doc=documents(), data=st.data())
def test_the_numba_kernel_updates_equal_a_full_evaluation(doc: Document,
                                                          data: st.DataObject) -> None:
    live = LiveOrganisation.from_document(doc, kernel="numba")
    for _ in range(data.draw(st.integers(1, 3))):
        random_update(live, data)
    assert_same_columns(live.result(), evaluate_frame(live.frame(), live.as_of, live.policy,
                                                      kernel="numba"))


# --- hand-computed oracle --------------------------------------------------------------------

ORACLE = {
    "okrcore": 1, "as_of": "2026-02-15T00:00:00Z",
    "objectives": [
        {"id": "company", "owner": "ceo"},
        {"id": "sales", "owner": "ann", "parent": "company",
         "key_results": [
             {"id": "deals", "kind": "metric", "target": 100,
              "check_ins": [{"at": "2026-01-10T00:00:00Z", "value": 20}]},
             {"id": "calls", "kind": "metric", "target": 10, "current": 5, "owners": ["bob"]}]},
        {"id": "eng", "owner": "cy", "parent": "company",
         "key_results": [{"id": "ship", "kind": "binary", "done": True}]},
    ]}


def test_a_check_in_moves_its_key_result_objective_parent_and_owner_by_hand() -> None:
    live = LiveOrganisation.from_document(Document.from_dict(ORACLE))
    before = live.evaluation()
    # SEMANTICS §2: deals 20/100 = 0.2, calls 5/10 = 0.5; §3 (no shared unit -> mean):
    # sales (0.2 + 0.5) / 2 = 0.35; §4 company (no KRs) = mean of its children (0.35 + 1) / 2;
    # §5 ann owns sales (0.35); bob owns calls on ann's objective (0.5); ceo owns company
    assert before.key_results["deals"].progress == pytest.approx(0.2)
    assert before.objectives["sales"].progress == pytest.approx(0.35)
    assert before.objectives["company"].progress == pytest.approx(0.675)
    assert before.people["ann"].progress == pytest.approx(0.35)
    assert before.people["bob"].progress == pytest.approx(0.5)

    changes = live.check_in("deals", datetime(2026, 2, 1, tzinfo=UTC), 60)

    # deals 60/100 = 0.6 (the latest check-in at or before as_of), progressed since 20;
    # sales (0.6 + 0.5) / 2 = 0.55; company (0.55 + 1) / 2 = 0.775; ann 0.55, ceo 0.775
    assert set(changes.key_results) == {"deals"}
    deals = changes.key_results["deals"]
    assert deals is not None
    assert deals.progress == pytest.approx(0.6)
    assert deals.current == 60
    assert deals.trend == "progressed"
    assert deals.last_check_in == "2026-02-01T00:00:00Z"
    assert set(changes.objectives) == {"sales", "company"}
    sales, company = changes.objectives["sales"], changes.objectives["company"]
    assert sales is not None and company is not None
    assert sales.progress == pytest.approx(0.55)
    assert company.progress == pytest.approx(0.775)
    # bob's calls and cy's eng did not move: they are not in the changes
    assert set(changes.people) == {"ann", "ceo"}
    ann, ceo = changes.people["ann"], changes.people["ceo"]
    assert ann is not None and ceo is not None
    assert ann.progress == pytest.approx(0.55)
    assert ceo.progress == pytest.approx(0.775)
    assert_matches_full(live)
    # a check-in after as_of is not known yet: nothing changes
    later = live.check_in("deals", datetime(2026, 3, 1, tzinfo=UTC), 90)
    assert not later
    assert live.evaluation().key_results["deals"].progress == pytest.approx(0.6)
    deals_now = live.document().objectives[1].key_results[0]
    assert isinstance(deals_now, Metric)
    assert len(deals_now.check_ins or ()) == 3


def test_an_edit_moves_the_rollup_by_hand() -> None:
    live = LiveOrganisation.from_document(Document.from_dict(ORACLE))
    # weight 3 on deals: sales (3 * 0.2 + 0.5) / 4 = 0.275; company (0.275 + 1) / 2 = 0.6375
    changes = live.edit_key_result("deals", weight=3)
    assert set(changes.objectives) == {"sales", "company"}
    assert changes.objectives["sales"].progress == pytest.approx(0.275)  # type: ignore[union-attr]
    assert changes.objectives["company"].progress == pytest.approx(0.6375)  # type: ignore[union-attr]
    assert changes.key_results["deals"].weight == 3  # type: ignore[union-attr]
    # eng at weight 0 is shown but not counted: company = sales = 0.275
    changes = live.edit_objective("eng", weight=0)
    assert changes.objectives["company"].progress == pytest.approx(0.275)  # type: ignore[union-attr]
    assert_matches_full(live)


def test_owner_changes_move_items_between_people() -> None:
    live = LiveOrganisation.from_document(Document.from_dict(ORACLE))
    # calls moves from bob to a new person dee: bob owns nothing any more (no result)
    changes = live.edit_key_result("calls", owners=("dee",))
    assert changes.people["bob"] is None
    dee = changes.people["dee"]
    assert dee is not None and dee.progress == pytest.approx(0.5)
    # sales goes to bob: deals (owned by default by the objective's owner) follows him, calls
    # stays dee's; ann owns nothing any more
    changes = live.edit_objective("sales", owner="bob")
    assert changes.people["ann"] is None
    bob = changes.people["bob"]
    assert bob is not None and bob.progress == pytest.approx(0.35)
    assert live.evaluation().key_results["deals"].owners == ("bob",)
    assert_matches_full(live)


def test_an_update_evaluates_only_its_region(monkeypatch: pytest.MonkeyPatch) -> None:
    objectives: list[dict[str, Any]] = [{"id": "root"}]
    for b in range(5):  # five branches of two levels, four KRs each at the bottom
        objectives.append({"id": f"b{b}", "parent": "root"})
        for leaf in range(3):
            objectives.append({"id": f"b{b}l{leaf}", "parent": f"b{b}", "owner": f"p{b}",
                               "key_results": [{"id": f"k{b}{leaf}{i}", "kind": "metric",
                                                "target": 10, "current": i}
                                               for i in range(4)]})
    live = LiveOrganisation.from_document(Document.from_dict(
        {"okrcore": 1, "as_of": "2026-02-15T00:00:00Z", "objectives": objectives}))
    sizes: list[tuple[int, int]] = []
    real = batch_pipeline.evaluate

    def spy(frame: OrgFrame, *args: Any, **kwargs: Any) -> BatchResult:
        sizes.append((frame.n_obj, frame.n_kr))
        return real(frame, *args, **kwargs)

    monkeypatch.setattr(batch_pipeline, "evaluate", spy)
    live.edit_key_result("k210", current=7)
    # b2l1 and its ancestors b2 and root; their children (b0..b4, b2l0, b2l2) pinned; the
    # four key results of b2l1 only
    assert sizes == [(3 + 4 + 2, 4)]
    assert_matches_full(live)


def test_cycles_unknown_parents_and_unreadable_items_update_like_a_full_evaluation() -> None:
    doc = okrcore.loads("""{"okrcore": 1, "as_of": "2026-02-15T00:00:00Z", "objectives": [
        {"id": "a", "parent": "b", "key_results": [
            {"id": "ka", "kind": "metric", "target": 10, "current": 2}]},
        {"id": "b", "parent": "a"},
        {"id": "c", "parent": "a", "owner": "ann", "key_results": [
            {"id": "kc", "kind": "metric", "target": 10, "current": 2},
            {"id": "bad", "kind": "metric", "target": "12k"}]},
        {"id": "d", "parent": "nowhere", "owner": "ann", "key_results": [
            {"id": "kd", "kind": "binary", "done": false}]},
        {"id": "e", "owner": "ann", "key_results": [
            {"id": "ke", "kind": "metric", "target": 4}]},
        {"id": "e", "owner": "bob", "parent": "c", "key_results": [
            {"id": "kc", "kind": "metric", "target": 5, "current": 1}]},
        {"id": "f", "owner": "bob", "parent": "e", "key_results": [
            {"id": "kf", "kind": "metric", "target": 5, "current": 1, "owners": ["ann"]}]}]}""")
    live = LiveOrganisation.from_document(doc)
    assert_matches_full(live)
    for call in (lambda: live.edit_key_result("kc", current=9),
                 lambda: live.edit_key_result("kd", done=True),
                 lambda: live.check_in("ke", datetime(2026, 2, 1, tzinfo=UTC), 3),
                 lambda: live.edit_objective("a", weight=2),
                 lambda: live.edit_key_result("kf", current=4),
                 lambda: live.edit_objective("e", owner="bob"),
                 lambda: live.edit_objective("f", owner="ann")):
        assert apply(live, call) is not None
    with pytest.raises(OkrValueError) as raised:
        live.edit_key_result("bad", target=3)
    assert raised.value.field == "id"


# --- bad input -------------------------------------------------------------------------------


def test_unknown_ids_name_the_id() -> None:
    live = LiveOrganisation.from_document(Document.from_dict(ORACLE))
    with pytest.raises(KeyError, match="'nope'") as raised:
        live.check_in("nope", datetime(2026, 2, 1, tzinfo=UTC), 1)
    assert isinstance(raised.value, E.UnknownItemError)
    with pytest.raises(KeyError, match="objective has the id 'missing'"):
        live.edit_objective("missing", weight=1)
    with pytest.raises(KeyError, match="'nobody'"):
        live.person("nobody")
    with pytest.raises(KeyError, match="'nope'"):
        live.key_result("nope")
    with pytest.raises(KeyError, match="'nope'"):
        live.objective("nope")


@pytest.mark.parametrize(("call", "code", "field"), [
    (lambda live: live.check_in("deals", datetime(2026, 2, 1, tzinfo=UTC), "12k"),
     E.NOT_A_NUMBER, "value"),
    (lambda live: live.check_in("deals", datetime(2026, 2, 1, tzinfo=UTC), float("nan")),
     E.NOT_FINITE, "value"),
    (lambda live: live.check_in("deals", datetime(2026, 2, 1), 3), E.INVALID_VALUE, "at"),
    (lambda live: live.check_in("ship", datetime(2026, 2, 1, tzinfo=UTC), True),
     E.CONFLICTING_CURRENT, "done"),
    (lambda live: live.check_in("deals", datetime(2026, 2, 1, tzinfo=UTC), True),
     E.WRONG_TYPE, "check_ins[1]"),
    (lambda live: live.edit_key_result("calls", target=0), E.DEGENERATE_METRIC, "target"),
    (lambda live: live.edit_key_result("calls", weight=-1), E.NEGATIVE_WEIGHT, "weight"),
    (lambda live: live.edit_key_result("calls", colour="red"), E.INVALID_VALUE, "colour"),
    (lambda live: live.edit_objective("sales", parent="eng"), E.INVALID_VALUE, "parent"),
    (lambda live: live.edit_objective("sales", mode="median"), E.UNKNOWN_FIELD_VALUE, "mode"),
    (lambda live: live.edit_objective("sales", start=datetime(2026, 3, 1, tzinfo=UTC),
                                      due=datetime(2026, 1, 1, tzinfo=UTC)),
     E.INVALID_TIMELINE, "due"),
])
def test_bad_values_raise_the_core_error_and_change_nothing(call: Any, code: str,
                                                            field: str) -> None:
    live = LiveOrganisation.from_document(Document.from_dict(ORACLE))
    before, document = live.result(), live.document()
    with pytest.raises(OkrValueError) as raised:
        call(live)
    assert (raised.value.code, raised.value.field) == (code, field)
    assert_same_columns(live.result(), before)
    assert live.document() == document


@pytest.mark.parametrize(("fields", "code"), [
    ({"target": 0.0}, E.DEGENERATE_METRIC),  # target == start
    ({"weight": -2.0}, E.NEGATIVE_WEIGHT),
    ({"target": float("inf")}, E.NOT_FINITE),
    ({"start": "zero"}, E.NOT_A_NUMBER),
    ({"kind": 2}, E.INVALID_VALUE),
])
def test_a_column_edit_that_breaks_its_row_is_refused(fields: dict[str, Any], code: str) -> None:
    frame = OrgFrame.from_columns(kr_objective=[0, 0], kr_kind=[0, 0], kr_target=[10.0, 4.0],
                                  kr_current=[5.0, 1.0], obj_parent=[-1],
                                  kr_ids=["a", "b"], obj_ids=["o"])
    live = LiveOrganisation(frame, datetime(2026, 2, 1, tzinfo=UTC))
    before = live.result()
    with pytest.raises(OkrValueError) as raised:
        live.edit_key_result("a", **fields)
    assert raised.value.code == code
    assert raised.value.field == next(iter(fields))
    assert_same_columns(live.result(), before)
    # a good edit then works, and equals a full evaluation
    changes = live.edit_key_result("a", target=20.0)
    assert changes.kr_rows.tolist() == [0]
    assert changes.key_results["a"].progress == 0.25  # type: ignore[union-attr]
    assert_matches_full(live)


def test_columns_check_ins_take_microseconds_and_keep_the_later_entry_on_a_tie() -> None:
    day = 86_400 * 10**6
    base = instant_us(datetime(2026, 1, 1, tzinfo=UTC))
    frame = OrgFrame.from_columns(kr_objective=[0], kr_kind=[0], kr_target=[10.0],
                                  obj_parent=[-1], log_kr=[0], log_at=[base + day],
                                  log_value=[1.0])
    live = LiveOrganisation(frame, base + 3 * day)
    live.check_in("k0", base + 2 * day, 5.0)
    changes = live.check_in("k0", base + 2 * day, 7.0)  # same instant: the later one wins
    assert changes.key_results["k0"].current == 7.0  # type: ignore[union-attr]
    assert_matches_full(live)
    with pytest.raises(OkrValueError) as raised:
        live.check_in("k0", "yesterday", 1.0)  # type: ignore[arg-type]
    assert raised.value.field == "at"
    with pytest.raises(ValueError, match="built from columns"):
        live.document()
    assert live.has_document is False
    assert live.evaluation().key_results["k0"].trend == "progressed"
    assert live.frame().log_at.tolist() == [base + day, base + 2 * day, base + 2 * day]
    assert (live.as_of - base) // day == 3
    assert timedelta(microseconds=live.as_of - base).days == 3


def test_random_updates_of_the_sample_organisation_equal_a_full_evaluation() -> None:
    import random

    from okrcore.sample import generate_organisation

    live = LiveOrganisation.from_document(generate_organisation())
    rng = random.Random(19)
    doc = live.document()
    objective_ids = [str(o.id) for o in doc.objectives]
    applied = 0
    for step in range(40):
        krs = {str(kr.id): kr for o in live.document().objectives for kr in o.key_results}
        ident = rng.choice(sorted(krs))
        kr = krs[ident]
        at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=rng.randrange(24 * 60))
        if step % 4 == 3:
            obj = rng.choice(objective_ids)
            fields: dict[str, Any] = rng.choice([
                {"weight": rng.choice((0, 0.5, 2))}, {"owner": rng.choice(("ann", "zoe"))},
                {"status": rng.choice((None, "behind"))}, {"include_children": True}])
            changes = apply(live, partial(live.edit_objective, obj, **fields))
        elif isinstance(kr, Metric) and kr.check_ins is not None:
            value = round(rng.uniform(kr.start, kr.target), 1)
            changes = apply(live, partial(live.check_in, ident, at, value))
        elif isinstance(kr, Metric):
            value = round(rng.uniform(kr.start, kr.target), 1)
            changes = apply(live, partial(live.edit_key_result, ident, current=value))
        else:
            changes = apply(live, partial(live.edit_key_result, ident,
                                          owners=(rng.choice(("bob", "yan")),),
                                          weight=rng.choice((1, 3))))
        applied += changes is not None
    assert applied >= 35  # (the few refusals are checked to change nothing)


def test_the_whole_evaluation_is_patched_not_rebuilt(monkeypatch: pytest.MonkeyPatch) -> None:
    from okrcore.batch import to_evaluation as real

    live = LiveOrganisation.from_document(Document.from_dict(ORACLE))
    live.evaluation()
    whole: list[int] = []

    def spy(frame: OrgFrame, result: BatchResult) -> okrcore.Evaluation:
        if frame.n_kr == 3:
            whole.append(frame.n_obj)
        return real(frame, result)

    monkeypatch.setattr("okrcore.live.to_evaluation", spy)
    live.check_in("deals", datetime(2026, 2, 1, tzinfo=UTC), 60)
    live.edit_key_result("calls", weight=2)
    patched = live.evaluation()
    assert whole == []  # (only the changed regions were presented)
    assert patched.objectives["sales"].progress == pytest.approx((0.6 + 2 * 0.5) / 3)
    # an item that gets an error: the evaluation is built again, with the error
    live.edit_objective("sales", progress_settings=okrcore.ProgressSettings("USD", 100))
    rebuilt = live.evaluation()
    assert whole == [3]
    assert "sales" not in rebuilt.objectives and "company" not in rebuilt.objectives
    assert [(e.code, e.path) for e in rebuilt.errors] == [
        ("depends_on_invalid", "objectives[0]"),
        ("no_contributing_metric", "objectives[1].progress_settings.unit"),
        ("depends_on_invalid", "people.ann"), ("depends_on_invalid", "people.ceo")]
    assert_matches_full(live)
