"""The ``okrcore demo`` job: the generated organisation, the terminal view and the command."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

import okrcore
from okrcore.demo import DEFAULT_AS_OF, QUARTER_DUE, generate_organisation, render, run_demo
from okrcore.evaluate import evaluate
from okrcore.model import (
    Binary,
    CheckIn,
    Document,
    KeyResult,
    Metric,
    Milestone,
    Objective,
    Range,
)
from okrcore.results import Evaluation

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _objectives(document: Document) -> list[Objective]:
    objectives = [o for o in document.objectives if isinstance(o, Objective)]
    assert len(objectives) == len(document.objectives)
    return objectives


def _key_results(document: Document) -> list[KeyResult]:
    krs = []
    for objective in _objectives(document):
        for kr in objective.key_results:
            assert isinstance(kr, Metric | Binary | Milestone)
            krs.append(kr)
    return krs


def _levels(document: Document) -> dict[str, int]:
    """Alignment level of each objective: 1 for a root, 2 for its children..."""
    parent = {o.id: o.parent for o in _objectives(document)}
    levels = {}
    for oid in parent:
        level, up = 1, parent[oid]
        while up is not None:
            level, up = level + 1, parent[up]
        levels[oid] = level
    return levels


@pytest.fixture(scope="module")
def document() -> Document:
    return generate_organisation()


@pytest.fixture(scope="module")
def evaluation(document: Document) -> Evaluation:
    return evaluate(document)


@pytest.fixture(scope="module")
def text(document: Document, evaluation: Evaluation) -> str:
    return render(document, evaluation, colour=False)


# --- the generated organisation ---------------------------------------------------------------


@pytest.mark.parametrize("seed", [7, 0, 1, 42, 2026])
def test_generated_document_evaluates_without_errors(seed: int) -> None:
    document = generate_organisation(seed)
    result = evaluate(document)
    assert result.errors == ()
    assert len(result.objectives) == len(document.objectives)
    assert len(result.key_results) == sum(len(o.key_results) for o in document.objectives)


def test_default_instant_is_mid_quarter(document: Document, evaluation: Evaluation) -> None:
    assert document.as_of == DEFAULT_AS_OF == datetime(2026, 2, 15, 12, tzinfo=UTC)
    assert evaluation.as_of == "2026-02-15T12:00:00Z"
    # 45.5 days of 90: every objective shares the Q1 timeline
    for result in evaluation.objectives.values():
        assert result.expected == pytest.approx(45.5 / 90)


def test_as_of_changes_only_the_instant() -> None:
    later = datetime(2026, 3, 20, tzinfo=UTC)
    assert generate_organisation(7, later).objectives == generate_organisation(7).objectives
    assert generate_organisation(7, later).as_of == later


def test_alignment_is_three_to_four_levels_deep(document: Document) -> None:
    levels = _levels(document)
    assert max(levels.values()) in (3, 4)
    roots = [o for o in _objectives(document) if o.parent is None]
    assert len(roots) == 2
    # every department has teams under it, so every branch is at least three levels deep
    departments = [o for o in _objectives(document) if levels[o.id] == 2]
    assert len(departments) >= 5
    for department in departments:
        assert any(o.parent == department.id for o in _objectives(document)), department.id


def test_company_objectives_roll_up_their_children(
    document: Document, evaluation: Evaluation
) -> None:
    for objective in _objectives(document):
        if objective.parent is None:
            assert objective.key_results == ()
            explanation = evaluation.objectives[objective.id].explanation
            assert explanation.rule == "children"
            assert len(explanation.items) >= 2


def test_every_department_and_team_objective_has_three_to_five_krs(document: Document) -> None:
    for objective in _objectives(document):
        if objective.parent is not None:
            assert 3 <= len(objective.key_results) <= 5, objective.id


def test_every_kind_range_mode_and_direction_appears(document: Document) -> None:
    krs = _key_results(document)
    assert {kr.kind for kr in krs} == {"metric", "binary", "milestone"}
    metrics = [kr for kr in krs if isinstance(kr, Metric)]
    assert {m.direction for m in metrics if m.range is None} == {1, -1}
    assert {m.range.mode for m in metrics if m.range is not None} == {"band", "graded", "linear"}
    milestones = [kr for kr in krs if isinstance(kr, Milestone)]
    assert any(m.stages_total is not None for m in milestones)
    assert any(m.checkpoints is not None for m in milestones)
    assert any(m.stages_total is None and m.checkpoints is None for m in milestones)
    assert "Implement a CRM system (in 5 stages)" in {m.name for m in milestones}
    for kr in krs:
        assert kr.name, kr.id


def test_rollup_features_are_all_present(document: Document, evaluation: Evaluation) -> None:
    by_id = {o.id: o for o in _objectives(document)}
    sales = evaluation.objectives["sales"].explanation
    assert (sales.mode, sales.target_rule, sales.unit, sales.target) == (
        "sum", "fixed", "USD", 1_100_000.0)
    accounts = evaluation.objectives["cs-accounts"].explanation
    assert (accounts.mode, accounts.target_rule, accounts.target) == ("sum", "auto", 420_000.0)
    assert evaluation.key_results["accounts.qbrs"].contributes is False
    assert by_id["mkt-brand"].ambition == "aspirational"
    assert by_id["marketing"].include_children
    marketing = evaluation.objectives["marketing"].explanation
    assert sum(1 for item in marketing.items if item.type == "objective") == 2
    assert by_id["eng-product"].status == "at_risk"
    assert evaluation.objectives["eng-product"].colour == "yellow"
    weights = [kr.weight for o in by_id.values() for kr in o.key_results]
    assert weights.count(1.0) > 0.8 * len(weights)
    assert {0.0, 2.0} <= set(weights)


def test_people_and_cross_team_owners(document: Document, evaluation: Evaluation) -> None:
    objectives = _objectives(document)
    levels = _levels(document)
    by_id = {o.id: o for o in objectives}

    def department(oid: str) -> str:
        while levels[oid] > 2:
            parent = by_id[oid].parent
            assert parent is not None
            oid = parent
        return oid

    people = {o.owner for o in objectives} | {
        p for o in objectives for kr in o.key_results for p in kr.owners}
    assert 20 <= len(people) <= 30
    assert set(evaluation.people) == people
    owned_departments: dict[str | None, set[str]] = {}
    for o in objectives:
        if levels[o.id] >= 2:
            owned_departments.setdefault(o.owner, set()).add(department(o.id))
    cross = {
        (p, kr.id)
        for o in objectives if levels[o.id] >= 2
        for kr in o.key_results
        for p in kr.owners
        if p != o.owner and owned_departments.get(p, {department(o.id)}) - {department(o.id)}
    }
    assert len(cross) >= 3, cross
    # people without an objective of their own work for several departments
    helpers: dict[str, set[str]] = {}
    for o in objectives:
        for kr in o.key_results:
            for p in kr.owners:
                if p not in owned_departments and levels[o.id] >= 2:
                    helpers.setdefault(p, set()).add(department(o.id))
    assert max(len(d) for d in helpers.values()) >= 3
    # a KR with two owners counts for each of them
    shared = [kr for o in objectives for kr in o.key_results if len(kr.owners) >= 2]
    assert len(shared) == 1
    for person in shared[0].owners:
        items = evaluation.people[person].items
        assert shared[0].id in {item.id for item in items}


def test_check_ins_cover_the_quarter_and_tell_a_story(
    document: Document, evaluation: Evaluation
) -> None:
    krs = _key_results(document)
    histories = [kr.check_ins for kr in krs if kr.check_ins]
    assert len(histories) >= 0.75 * len(krs)
    for history in histories:
        for entry in history:
            assert isinstance(entry, CheckIn)
            assert datetime(2026, 1, 1, tzinfo=UTC) <= entry.at < QUARTER_DUE
    results = evaluation.key_results.values()
    assert sum(1 for r in results if r.stale) >= 3
    assert sum(1 for r in results if r.trend == "regressed") >= 2
    assert sum(1 for r in results if r.trend == "progressed") >= 20
    # a binary that is not done yet has a history of "not yet"
    invoicing = next(kr for kr in krs if kr.id == "product.multicurrency")
    assert isinstance(invoicing, Binary)
    assert invoicing.check_ins
    assert not any(entry.value for entry in invoicing.check_ins)


def test_same_seed_same_result_other_seed_other_result() -> None:
    first = evaluate(generate_organisation(7)).to_json()
    again = evaluate(generate_organisation(7)).to_json()
    other = evaluate(generate_organisation(8)).to_json()
    assert first == again
    assert okrcore.dumps(generate_organisation(7)) == okrcore.dumps(generate_organisation(7))
    assert first["objectives"].keys() == other["objectives"].keys()
    progress = [o["progress"] for o in first["objectives"].values()]
    assert progress != [o["progress"] for o in other["objectives"].values()]


# --- the terminal view ------------------------------------------------------------------------


def test_render_shows_every_objective_and_person(
    document: Document, evaluation: Evaluation, text: str
) -> None:
    for objective in _objectives(document):
        assert objective.name in text
    for person in evaluation.people:
        assert person in text
    assert "├─ " in text and "└─ " in text
    assert "\x1b" not in text


def test_render_header_counts_and_summary(document: Document, text: str) -> None:
    lines = text.splitlines()
    assert lines[0] == "okrcore · OKR progress as of 2026-02-15T12:00:00Z"
    assert "period 2026-01-01 → 2026-03-31 · expected progress 50.6%" in text
    assert "policy betterworks" in text
    krs = sum(len(o.key_results) for o in document.objectives)
    assert f"{len(document.objectives)} objectives in 4 levels · {krs} key results" in text
    assert "People (27)" in text
    assert re.search(r"^  errors +0$", text, re.MULTILINE)


def test_render_objective_line_values(evaluation: Evaluation, text: str) -> None:
    sales = evaluation.objectives["sales"]
    assert sales.progress is not None
    line = next(ln for ln in text.splitlines() if "exp" in ln and "sum" in ln)
    cells = round(sales.progress * 20)
    assert "█" * cells + "░" * (20 - cells) in line
    assert f"{sales.progress * 100:.1f}% exp  50.6%  {sales.colour}" in line


def test_render_lines_stay_within_110_columns(text: str) -> None:
    assert max(len(line) for line in text.splitlines()) <= 110


def test_render_percent_expected_and_colour_of_a_known_value() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    document = Document(
        as_of=datetime(2026, 1, 2, tzinfo=UTC),
        objectives=[
            Objective(
                id="o", name="Ship the thing", owner="Ann", start=start,
                due=datetime(2026, 1, 3, tzinfo=UTC),
                key_results=[Milestone(id="k", name="Three steps", stages_total=3,
                                       stages_done=1)],
            )
        ],
    )
    text = render(document, evaluate(document), colour=False)
    line = next(ln for ln in text.splitlines() if ln.startswith("Ship the thing"))
    # 1/3 against an expected 1/2: 1/3 <= 0.75 * 1/2, above 0.5 * 1/2 -> yellow
    assert "███████░░░░░░░░░░░░░  33.3% exp  50.0%  yellow mean" in line
    assert "   stages Three steps  1 / 3 stages   33.3%  yellow" in text
    assert "1 objective in 1 level · 1 key result · 1 person · 0 errors" in text
    assert "  Ann   ███████░░░░░░░░░░░░░  33.3%  1 item" in text


def test_render_range_shows_its_green_zone_and_graded_progress() -> None:
    latency = Metric(id="lat", name="Keep p95 latency under 300 ms", unit="ms", target=200,
                     current=325, range=Range(yellow_high=300, red_high=450, mode="graded"))
    uptime = Metric(id="up", name="Keep uptime at 99.9%", unit="%", target=99.9, current=99.8,
                    range=Range(red_low=99.5, yellow_low=99.8, mode="band"))
    document = Document(as_of=DEFAULT_AS_OF, objectives=[
        Objective(id="o", name="Be fast", owner="Ann", key_results=[latency, uptime])])
    text = render(document, evaluate(document), colour=False)
    # graded: 1 - (325 - 300) / (450 - 300); the yellow limit is hit
    assert "range grad Keep p95 latency under 300 ms  325 / <300 ms   83.3%  yellow" in text
    # band: progress 1 until a red limit; 99.8 sits on the yellow limit (inclusive) -> yellow
    assert "range band Keep uptime at 99.9%           99.8 / >99.8%  100.0%  yellow" in text
    # no timeline: the pace is green, the breakpoints make the objective yellow
    assert "91.7% exp      —  yellow mean" in text
    assert "owner Ann · mean of 2 KRs · yellow from a range limit: Keep p95 latency" in text


def test_render_with_colour_uses_ansi_and_the_same_text(
    document: Document, evaluation: Evaluation, text: str
) -> None:
    coloured = render(document, evaluation, colour=True)
    assert "\x1b[31m" in coloured and "\x1b[32m" in coloured and "\x1b[33m" in coloured
    assert ANSI.sub("", coloured) == text


def test_render_reports_items_in_error() -> None:
    document = Document(
        as_of=DEFAULT_AS_OF,
        objectives=[Objective(id="lost", name="Find the parent", parent="nowhere",
                              key_results=[Binary(id="b", done=True)])],
    )
    result = evaluate(document)
    text = render(document, result, colour=False)
    assert "Find the parent  error: unknown_parent" in text
    assert re.search(r"^  errors +1$", text, re.MULTILINE)
    assert "unknown_parent at objectives[0].parent" in text


# --- the command ------------------------------------------------------------------------------


def _demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "okrcore.cli", "demo", *args],
                          capture_output=True, text=True, check=False, encoding="utf-8")


def test_command_prints_the_tree() -> None:
    done = _demo("--colour", "never")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.startswith("okrcore · OKR progress as of 2026-02-15T12:00:00Z\n")
    assert "├─ Grow new ARR to $1.1M in EMEA and North America" in done.stdout
    assert "└─ Catch incidents before customers do" in done.stdout
    assert "\x1b" not in done.stdout
    # What is shown was stored in SQLite, recomputed there and read back: it must be exactly
    # the in-memory evaluation of the same organisation, followed by the database line.
    expected = render(generate_organisation(), evaluate(generate_organisation()), colour=False)
    shown, summary = done.stdout.split("\nokrcore recompute: ")
    assert shown == expected
    # ... and by the summary of the `okrcore recompute` job that stored the results
    assert re.fullmatch(
        r"sqlite:///\S+/okrcore-demo\.db -> \(stored in the database\) \[local, preset "
        r"betterworks\]\n  as of 2026-02-15T12:00:00Z: 62 key results, 18 objectives \(green 8, "
        r"yellow 10, red 0, none 0\), 27 people, 0 errors\n    time: read \d+\.\d\d s, "
        r"compute \d+\.\d\d s, write \d+\.\d\d s\n  total \d+\.\d\d s; exit 0\n", summary)


def test_command_colour_always_and_seed() -> None:
    done = _demo("--colour", "always", "--seed", "3")
    assert done.returncode == 0
    assert "\x1b[" in done.stdout
    plain = render(generate_organisation(3), evaluate(generate_organisation(3)), colour=False)
    assert ANSI.sub("", done.stdout).startswith(plain + "\nokrcore recompute: sqlite:///")


def test_command_output_round_trips(tmp_path: Path) -> None:
    target = tmp_path / "org.json"
    done = _demo("--colour", "never", "--seed", "11", "--as-of", "2026-03-01T09:30:00Z",
                 "--output", str(target))
    assert done.returncode == 0, done.stderr
    assert "as of 2026-03-01T09:30:00Z" in done.stdout
    data = json.loads(target.read_text(encoding="utf-8"))
    assert data["okrcore"] == 1 and data["as_of"] == "2026-03-01T09:30:00Z"
    loaded = okrcore.loads(target.read_text(encoding="utf-8"))
    in_memory = generate_organisation(11, datetime(2026, 3, 1, 9, 30, tzinfo=UTC))
    assert loaded == in_memory
    assert evaluate(loaded).to_json() == evaluate(in_memory).to_json()


def test_command_rejects_a_bad_as_of() -> None:
    done = _demo("--as-of", "next tuesday")
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1
    assert "next tuesday" in done.stderr


def test_run_demo_directly(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run_demo(seed=5, as_of="2026-03-31", colour="never") == 0
    out = capsys.readouterr().out
    assert "as of 2026-03-31T00:00:00Z" in out
    assert run_demo(colour="sometimes") == 2
    assert run_demo(output=str(tmp_path / "missing" / "org.json")) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 2


def test_demo_keeps_its_sqlite_database(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "demo.db"
    done = _demo("--colour", "never", "--database", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith(f"kept in {path}\n")
    document = generate_organisation()
    evaluation = evaluate(document)
    with sqlite3.connect(path) as db:
        rows = dict(db.execute("SELECT kr_id, progress FROM okrcore_kr_results").fetchall())
        counts = [db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in (
            "okrcore_objectives", "okrcore_key_results", "okrcore_objective_results",
            "okrcore_person_results", "okrcore_snapshots")]
    assert counts == [18, 62, 18, 27, 1]
    assert rows == {k: r.progress for k, r in evaluation.key_results.items()}
    # a second run on the same file replaces the organisation and stays idempotent
    again = _demo("--colour", "never", "--database", str(path))
    assert again.returncode == 0, again.stderr
    assert again.stdout.split("okrcore recompute:")[0] == done.stdout.split("okrcore recompute:")[0]
