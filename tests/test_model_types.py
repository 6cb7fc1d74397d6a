"""Model objects check the types of their container and object fields when built (issue 16).

Before, ``Objective(key_results=[{...}])`` was accepted and failed later inside ``evaluate``
with an ``AttributeError``; ``owners="ann"`` silently became three owners.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from okrcore import (
    Binary,
    CheckIn,
    Checkpoint,
    Document,
    InvalidKeyResult,
    InvalidObjective,
    Metric,
    Milestone,
    Objective,
    OkrError,
    OkrValueError,
    Policy,
    ProgressSettings,
    Range,
    evaluate,
)

AT = datetime(2026, 2, 1, tzinfo=UTC)
KR_DICT = {"id": "k1", "kind": "metric", "target": 10}

CASES: list[tuple[Callable[[], Any], str, str]] = [
    (lambda: Objective(id="o", key_results=[KR_DICT]), "key_results[0]",
     "key_results[0] must be a Metric, Binary or Milestone, got {'id': 'k1'"),
    (lambda: Objective(id="o", key_results=[Metric(id="k", target=1), "k2"]), "key_results[1]",
     "key_results[1] must be a Metric, Binary or Milestone, got 'k2'"),
    (lambda: Objective(id="o", key_results=KR_DICT), "key_results",
     "key_results must be a list or tuple, got {'id': 'k1'"),
    (lambda: Objective(id="o", key_results=7), "key_results",  # type: ignore[arg-type]
     "key_results must be a list or tuple, got 7"),
    (lambda: Objective(id="o", progress_settings={"unit": "USD"}),  # type: ignore[arg-type]
     "progress_settings",
     "progress_settings must be ProgressSettings, got {'unit': 'USD'}"),
    (lambda: InvalidObjective("o", [], key_results=[KR_DICT]), "key_results[0]",
     "key_results[0] must be a Metric"),
    (lambda: InvalidObjective("o", ["bad"]), "errors[0]", "errors[0] must be an OkrError"),
    (lambda: InvalidKeyResult("k", [{"code": "x"}]), "errors[0]",
     "errors[0] must be an OkrError, got {'code': 'x'}"),
    (lambda: Metric(id="k", target=1, owners="ann"), "owners",
     "owners must be a list of names, got 'ann'"),
    (lambda: Metric(id="k", target=1, check_ins=[{"at": "2026-01-01", "value": 1}]),
     "check_ins[0]", "check_ins[0] must be a CheckIn, got {'at': '2026-01-01'"),
    (lambda: Binary(id="k", check_ins=[(AT, True)]), "check_ins[0]",
     "check_ins[0] must be a CheckIn, got (datetime"),
    (lambda: Milestone(id="k", stages_total=3, check_ins="abc"), "check_ins",
     "check_ins must be a list or tuple, got 'abc'"),
    (lambda: Milestone(id="k", checkpoints=[{"name": "a", "done": True}]), "checkpoints[0]",
     "checkpoints[0] must be a Checkpoint, got {'name': 'a'"),
    (lambda: Metric(id="k", target=1, range={"red_low": 1}), "range",  # type: ignore[arg-type]
     "range must be a Range, got {'red_low': 1}"),
    (lambda: Document(as_of=AT, objectives=[{"id": "o"}]), "objectives[0]",
     "objectives[0] must be an Objective, got {'id': 'o'}"),
    (lambda: Document(as_of=AT, objectives=Objective(id="o")), "objectives",  # type: ignore[arg-type]
     "objectives must be a list or tuple, got Objective("),
    (lambda: Document(as_of=AT, policy={"preset": "viva"}), "policy",  # type: ignore[arg-type]
     "policy must be a Policy, got {'preset': 'viva'}"),
]


@pytest.mark.parametrize(("build", "field", "message"), CASES)
def test_a_wrong_element_type_is_refused_naming_field_and_value(
        build: Callable[[], Any], field: str, message: str) -> None:
    with pytest.raises(OkrValueError) as caught:
        build()
    assert caught.value.code == "wrong_type"
    assert caught.value.field == field
    assert message in caught.value.message


def test_a_dict_key_result_points_to_from_dict() -> None:
    with pytest.raises(OkrValueError, match=r"read dicts with Document\.from_dict"):
        Objective(id="o", key_results=[KR_DICT])


def test_the_right_types_still_build_and_evaluate() -> None:
    doc = Document(as_of=AT, policy=Policy(), objectives=[
        Objective(id="o", owner="ann", key_results=[
            Metric(id="k1", target=10, owners=["bo"],
                   check_ins=[CheckIn(AT, 4.0)]),
            Binary(id="k2", done=True),
            Milestone(id="k3", checkpoints=[Checkpoint("a", True), Checkpoint("b")])],
            progress_settings=None),
        InvalidObjective("bad", [OkrError("wrong_type", "objectives[1].id", "x")]),
        Objective(id="p", key_results=(Metric(id="k4", target=2, current=1,
                                              range=Range(red_low=1)),),
                  progress_settings=ProgressSettings(unit="USD", auto=True)),
    ])
    result = evaluate(doc)
    # k1: 4/10; k2 done; k3: one of two checkpoints; o: the mean (0.4 + 1 + 0.5) / 3
    assert result.key_results["k1"].progress == 0.4
    assert result.key_results["k3"].progress == 0.5
    assert result.objectives["o"].progress == pytest.approx(1.9 / 3)
    assert result.key_results["k1"].owners == ("bo",)
