"""Hand-written documents that exercise every formula of the exported workbook."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import okrcore
from okrcore import Document

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "interchange.json"


def _doc(objectives: list[dict[str, Any]], policy: dict[str, Any] | None = None,
         as_of: str = "2026-02-15T00:00:00Z") -> Document:
    return okrcore.Document.from_dict({"okrcore": 1, "as_of": as_of, "policy": policy or {},
                         "objectives": objectives})


QUARTER = {"start": "2026-01-01", "due": "2026-03-31"}


def _usd(ident: str, target: float, current: float, **more: Any) -> dict[str, Any]:
    return {"id": ident, "kind": "metric", "unit": "USD", "target": target, "current": current,
            **more}


def _deals(ident: str, value: float, mode: str, **limits: float) -> dict[str, Any]:
    return {"id": ident, "kind": "metric", "unit": "deals", "target": 12, "current": value,
            "range": {"mode": mode, **limits}}


FULL = {"red_low": 8, "yellow_low": 10, "yellow_high": 15, "red_high": 18}


def hand_written() -> dict[str, Document]:
    """Named documents: sum fixed/auto, reductions, range modes, alignment, people, presets."""
    fives = [_usd(f"k{i}", t, c) for i, (t, c) in enumerate(
        [(250000, 250000), (200000, 200000), (150000, 150000), (150000, 150000),
         (100000, 50000)])]
    return {
        "example": okrcore.Document.from_dict(json.loads(EXAMPLE.read_text())),
        "sum_fixed_auto_mean": _doc([
            {"id": "fixed", "owner": "ann", **QUARTER,
             "progress_settings": {"unit": "USD", "target": 800000}, "key_results": fives},
            {"id": "auto", "owner": "bob", **QUARTER,
             "progress_settings": {"unit": "USD", "auto": True},
             "key_results": [dict(k, id="a" + k["id"]) for k in fives]},
            {"id": "same-unit", **QUARTER,
             "key_results": [dict(k, id="s" + k["id"]) for k in fives]},
            {"id": "mean", "mode": "mean", **QUARTER,
             "key_results": [dict(k, id="m" + k["id"], weight=i) for i, k in enumerate(fives)]},
        ]),
        "reductions_and_goal_start": _doc([
            {"id": "calls", "owner": "ann", **QUARTER, "key_results": [
                {"id": "call-time", "kind": "metric", "unit": "min", "start": 45, "target": 20,
                 "current": 30, "owners": ["bob"]},
                {"id": "wait", "kind": "metric", "unit": "min", "start": 10, "target": 4,
                 "current": 12}]},
            {"id": "goal-start", **QUARTER, "progress_settings": {
                "unit": "min", "target": 20, "start": 60}, "key_results": [
                {"id": "g1", "kind": "metric", "unit": "min", "start": 30, "target": 10,
                 "current": 22},
                {"id": "g2", "kind": "metric", "unit": "min", "start": 30, "target": 10,
                 "current": 15},
                {"id": "other", "kind": "metric", "unit": "h", "target": 3, "current": 1}]},
        ]),
        "range_modes": _doc([
            {"id": f"r-{mode}-{v}", **QUARTER, "key_results": [
                _deals(f"d-{mode}-{v}", v, mode, **FULL),
                {"id": f"b-{mode}-{v}", "kind": "binary", "done": v > 10}]}
            for mode in ("band", "graded", "linear") for v in (7, 8, 9, 12, 15, 16.5, 18)
        ] + [
            {"id": "partial", **QUARTER, "key_results": [
                _deals("only-high", 16, "graded", yellow_high=15, red_high=18),
                _deals("only-red-low", 9, "graded", red_low=8),
                _deals("no-limits", 3, "band")]},
        ]),
        "range_strict": _doc([
            {"id": f"s-{mode}-{v}", **QUARTER, "key_results": [_deals(f"sd-{mode}-{v}", v, mode,
                                                                        **FULL)]}
            for mode in ("band", "graded") for v in (8, 10, 15, 18)
        ], policy={"strict_breakpoints": True}),
        "alignment": _doc([
            {"id": "company", "owner": "ceo", **QUARTER},
            {"id": "team-a", "parent": "company", "owner": "ann", "weight": 2, **QUARTER,
             "key_results": [{"id": "ta", "kind": "milestone", "stages_total": 4,
                              "stages_done": 1, "owners": ["bob", "carl"]}]},
            {"id": "team-b", "parent": "company", "owner": "bob", **QUARTER,
             "include_children": True, "key_results": [
                 {"id": "tb", "kind": "milestone", "checkpoints": [
                     {"name": "spec", "done": True}, {"name": "build"}, {"name": "ship"}]}]},
            {"id": "squad", "parent": "team-b", **QUARTER, "key_results": [
                {"id": "sq", "kind": "binary", "done": True, "due": "2026-02-01"}]},
            {"id": "sum-children", "include_children": True, **QUARTER,
             "progress_settings": {"unit": "USD", "target": 200},
             "key_results": [_usd("sc1", 100, 50), _usd("sc2", 100, 100)]},
            {"id": "sum-child", "parent": "sum-children", "key_results": [
                {"id": "scc", "kind": "binary", "done": False}]},
            {"id": "empty"},
            {"id": "weightless", **QUARTER, "key_results": [
                {"id": "w0", "kind": "binary", "done": True, "weight": 0}]},
        ]),
        "presets_and_status": _doc([
            {"id": f"p{i}", **QUARTER, "status": status, "key_results": [
                {"id": f"pk{i}", "kind": "metric", "target": 100, "current": current}]}
            for i, (current, status) in enumerate(
                [(30, None), (20, None), (40, "on_track"), (10, "off_track"), (35, "behind"),
                 (25, "at_risk"), (100, None), (120, None)])
        ], policy={"preset": "burningokr", "cap": 1.5}),
        "viva_uncapped": _doc([
            {"id": f"v{i}", **QUARTER, "key_results": [
                {"id": f"vk{i}", "kind": "metric", "target": 10, "current": current}]}
            for i, current in enumerate((2, 3, 4, 5, 13))
        ], policy={"preset": "viva", "cap": None}),
        "history_and_timeline": _doc([
            {"id": "h", **QUARTER, "key_results": [
                {"id": "hist", "kind": "metric", "target": 500000, "check_ins": [
                    {"at": "2026-01-20", "value": 90000}, {"at": "2026-02-10", "value": 210000},
                    {"at": "2026-03-01", "value": 400000}]},
                {"id": "hist-bin", "kind": "binary", "check_ins": [
                    {"at": "2026-01-20", "done": True}]},
                {"id": "hist-stage", "kind": "milestone", "stages_total": 3, "check_ins": [
                    {"at": "2026-02-01", "stages_done": 2}]}]},
            {"id": "no-due", "start": "2026-01-01", "key_results": [
                {"id": "nd", "kind": "milestone", "done": True}]},
            {"id": "before", "start": "2026-03-01", "due": "2026-06-30", "key_results": [
                {"id": "bf", "kind": "metric", "target": 5, "current": 1}]},
            {"id": "after", "start": "2025-10-01", "due": "2025-12-31", "key_results": [
                {"id": "af", "kind": "metric", "target": 5, "current": 1}]},
        ], policy={"preset": "workfront"}),
    }
