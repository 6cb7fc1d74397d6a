"""The ``okrcore demo`` job: a sample organisation, evaluated and drawn in the terminal.

:func:`generate_organisation` builds a deterministic (seeded) organisation for one quarter,
Q1 2026: a company level whose two objectives roll up their departments, departments (Sales,
Marketing, Customer Success, Engineering, People) and teams under them, so that alignment is
four levels deep.  Every department and team objective has three to five key results of every
kind (increase and reduction metrics, range metrics in ``band``, ``graded`` and ``linear`` mode,
binary, simple, staged and checkpoint milestones), a weekly-ish check-in history with noisy
trends, some stale and some regressing key results, and owners who also own key results on other
teams' objectives.  Only the public model (:mod:`okrcore.model`) is used, and the document is
valid: evaluating it reports no errors.

:func:`render` draws any document and its :class:`~okrcore.results.Evaluation` as text: the
alignment tree with progress bars, expected progress, colour, rollup mode and trend; the key
results of every objective; a people table; and a summary.  :func:`run_demo` is what
``okrcore demo`` runs.
"""

from __future__ import annotations

import itertools
import os
import random
import sys
import tempfile
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Final, Literal

from okrcore.errors import OkrValueError
from okrcore.interchange import dumps, parse_instant
from okrcore.model import (
    Binary,
    CheckIn,
    Checkpoint,
    Document,
    InvalidKeyResult,
    InvalidObjective,
    KeyResult,
    Metric,
    Milestone,
    Objective,
    ProgressSettings,
    Range,
)
from okrcore.results import Evaluation, KeyResultResult, ObjectiveResult

__all__ = [
    "DEFAULT_AS_OF",
    "QUARTER_DUE",
    "QUARTER_START",
    "generate_organisation",
    "render",
    "run_demo",
]

QUARTER_START: Final = datetime(2026, 1, 1, tzinfo=UTC)
"""Start of the sample quarter (Q1 2026): 2026-01-01T00:00Z."""
QUARTER_DUE: Final = datetime(2026, 4, 1, tzinfo=UTC)
"""Due instant of the sample quarter: the end of 2026-03-31, i.e. 2026-04-01T00:00Z."""
DEFAULT_AS_OF: Final = datetime(2026, 2, 15, 12, tzinfo=UTC)
"""The instant the demo evaluates at unless told otherwise (mid-quarter)."""

_QUARTER_DAYS: Final = (QUARTER_DUE - QUARTER_START).days
_EXIT_OK: Final = 0
_EXIT_USAGE: Final = 2

# ------------------------------------------------------------------------------------------------
# Generation
# ------------------------------------------------------------------------------------------------

Path = Sequence[tuple[float, float]]
"""A piecewise-linear curve: (fraction of the quarter elapsed, value) points, x ascending."""

# Progress shapes of plain metrics: fraction of the way from start to target over the quarter.
_STEADY: Final[Path] = ((0.0, 0.0), (1.0, 1.02))
_AHEAD: Final[Path] = ((0.0, 0.0), (0.6, 0.85), (1.0, 1.15))
_BEHIND: Final[Path] = ((0.0, 0.0), (1.0, 0.62))
_SLOW_START: Final[Path] = ((0.0, 0.0), (0.3, 0.08), (0.55, 0.35), (1.0, 0.97))
_REGRESS: Final[Path] = ((0.0, 0.0), (0.3, 0.5), (0.52, 0.22), (0.75, 0.45), (1.0, 0.7))
_FLAT: Final[Path] = ((0.0, 0.0), (0.2, 0.18), (1.0, 0.25))


def _interpolate(path: Path, x: float) -> float:
    """Value of a piecewise-linear path at ``x`` (held constant outside the points)."""
    if x <= path[0][0]:
        return path[0][1]
    for (x0, y0), (x1, y1) in itertools.pairwise(path):
        if x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0)
    return path[-1][1]


def _quantise(value: float, step: float) -> float:
    """Round to a multiple of ``step`` (an int for whole steps, so JSON stays tidy)."""
    steps = round(value / step)
    if step >= 1 and float(step).is_integer():
        return int(steps * step)
    return round(steps * step, 6)


def _end_of(year: int, month: int, day: int) -> datetime:
    """The end of a calendar day (the next midnight, UTC), as date-only ``due`` means."""
    return datetime(year, month, day, tzinfo=UTC) + timedelta(days=1)


class _Maker:
    """Builds key results with a seeded, realistic check-in history."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def _instant(self, day: float) -> datetime:
        """A working-hours instant on day ``day`` of the quarter."""
        whole = min(int(day), _QUARTER_DAYS - 1)
        return QUARTER_START + timedelta(
            days=whole, hours=self.rng.randint(8, 17), minutes=self.rng.choice((0, 15, 30, 45))
        )

    def _schedule(self, until: float, every: float) -> list[tuple[float, datetime]]:
        """Check-in days (fraction of the quarter, instant) up to ``until``.

        Weekly reporters (``every`` <= 7) check in on the same weekday and now and then skip a
        week; slower ones every ``every`` days, give or take a day or two.
        """
        rng = self.rng
        weekly = every <= 7
        day = rng.uniform(1.5, 6.5) if weekly else rng.uniform(3.0, every)
        out: list[tuple[float, datetime]] = []
        while day <= until * _QUARTER_DAYS and day < _QUARTER_DAYS:
            if not weekly or rng.random() >= 0.08:
                out.append((day / _QUARTER_DAYS, self._instant(day)))
            day += 7.0 if weekly else every + rng.choice((-1.0, 0.0, 1.0, 2.0))
        return out

    def metric(
        self,
        kid: str,
        name: str,
        unit: str,
        start: float,
        target: float,
        *,
        path: Path,
        noise: float = 0.02,
        step: float = 1,
        cumulative: bool = False,
        until: float = 1.0,
        every: float = 7.0,
        owners: Sequence[str] = (),
        weight: float = 1.0,
        hi: float | None = None,
    ) -> Metric:
        """A plain metric whose history follows ``path`` (progress fractions) with noise."""
        rng = self.rng
        luck = rng.uniform(0.88, 1.08)
        span = target - start
        history: list[CheckIn] = []
        previous = start
        for x, at in self._schedule(until, every):
            raw = start + (_interpolate(path, x) * luck + rng.gauss(0.0, noise)) * span
            raw = max(raw, 0.0) if hi is None else min(max(raw, 0.0), hi)
            if cumulative:
                raw = max(raw, previous) if span > 0 else min(raw, previous)
            value = _quantise(raw, step)
            previous = value
            history.append(CheckIn(at, value))
        return Metric(id=kid, name=name, unit=unit, start=start, target=target,
                      check_ins=history, owners=tuple(owners), weight=weight)

    def ranged(
        self,
        kid: str,
        name: str,
        unit: str,
        target: float,
        bounds: Range,
        *,
        path: Path,
        noise: float,
        step: float,
        start: float = 0.0,
        every: float = 7.0,
        until: float = 1.0,
        owners: Sequence[str] = (),
        weight: float = 1.0,
    ) -> Metric:
        """A range metric whose history follows ``path`` (values in the unit) with noise."""
        history = [
            CheckIn(at, _quantise(_interpolate(path, x) + self.rng.gauss(0.0, noise), step))
            for x, at in self._schedule(until, every)
        ]
        return Metric(id=kid, name=name, unit=unit, start=start, target=target, range=bounds,
                      check_ins=history, owners=tuple(owners), weight=weight)

    def staged(
        self,
        kid: str,
        name: str,
        stages_at: Sequence[float],
        *,
        total: int,
        owners: Sequence[str] = (),
        due: datetime | None = None,
        weight: float = 1.0,
    ) -> Milestone:
        """A staged milestone: a kick-off check-in, then one check-in per stage finished."""
        rng = self.rng
        days = sorted(min(max(x + rng.uniform(-0.04, 0.04), 0.05), 0.99) * _QUARTER_DAYS
                      for x in stages_at)
        history = [CheckIn(self._instant(rng.uniform(1.0, 4.0)), 0)]
        history += [CheckIn(self._instant(day), done + 1) for done, day in enumerate(days)]
        return Milestone(id=kid, name=name, stages_total=total, check_ins=history,
                         owners=tuple(owners), due=due, weight=weight)

    def binary(
        self,
        kid: str,
        name: str,
        done_at: float | None,
        *,
        owners: Sequence[str] = (),
        every: float = 7.0,
    ) -> Binary:
        """A binary KR with weekly "not yet" check-ins until it is done at ``done_at``."""
        end = 1.0 if done_at is None else done_at
        history = [CheckIn(at, False) for x, at in self._schedule(end, every) if x < end]
        if done_at is not None:
            history.append(CheckIn(self._instant(done_at * _QUARTER_DAYS), True))
        return Binary(id=kid, name=name, check_ins=history, owners=tuple(owners))


def _company(make: _Maker, rng: random.Random) -> list[Objective]:
    """The sample organisation's objectives, parents before children."""
    usd = "USD"
    pct = "%"

    def obj(oid: str, name: str, owner: str, parent: str | None, krs: Iterable[KeyResult] = (),
            *, weight: float = 1.0, include_children: bool = False,
            progress_settings: ProgressSettings | None = None,
            ambition: Literal["committed", "aspirational"] = "committed",
            status: Literal["on_track", "behind", "at_risk", "off_track"] | None = None,
            ) -> Objective:
        return Objective(id=oid, name=name, owner=owner, parent=parent, key_results=tuple(krs),
                         start=QUARTER_START, due=QUARTER_DUE, weight=weight,
                         include_children=include_children, progress_settings=progress_settings,
                         ambition=ambition, status=status)

    def checklist(count: int, names: Sequence[str]) -> tuple[Checkpoint, ...]:
        return tuple(Checkpoint(n, i < count) for i, n in enumerate(names))

    objectives = [
        # --- company ------------------------------------------------------------------------
        obj("co-growth", "Become the go-to finance platform for mid-market teams",
            "Amara Okafor", None),
        obj("co-scale", "Build a product and a company that scale", "Amara Okafor", None),
        # --- Sales --------------------------------------------------------------------------
        obj("sales", "Grow new ARR to $1.1M in EMEA and North America", "Daniel Whitfield",
            "co-growth", [
                make.metric("sales.arr-emea", "Close $500k new ARR in EMEA", usd, 0, 500_000,
                            path=_SLOW_START, step=500, cumulative=True,
                            owners=["Sofia Lindqvist"]),
                make.metric("sales.arr-na", "Close $450k new ARR in North America", usd, 0,
                            450_000, path=_BEHIND, step=500, cumulative=True,
                            owners=["Marcus Reid"]),
                make.metric("sales.expansion", "Expand existing accounts by $250k", usd, 0,
                            250_000, path=_STEADY, step=500, cumulative=True,
                            owners=["Hannah Kowalski"]),
                make.staged("sales.crm", "Implement a CRM system (in 5 stages)",
                            (0.08, 0.25, 0.45, 0.7, 0.92), total=5, owners=["Sam Okoye"],
                            due=_end_of(2026, 3, 20)),
            ], weight=2.0,
            progress_settings=ProgressSettings(unit=usd, target=1_100_000)),
        obj("sales-emea", "Win the DACH and Nordics mid-market", "Sofia Lindqvist", "sales", [
            make.metric("emea.logos", "Sign 12 new logos in DACH and the Nordics", "logos", 0, 12,
                        path=_STEADY, noise=0.04, cumulative=True, owners=["Lukas Meyer"]),
            make.metric("emea.pipeline", "Grow qualified pipeline from $400k to $1.5M", usd,
                        400_000, 1_500_000, path=_REGRESS, step=1000, noise=0.015,
                        owners=["Elena Rossi"]),
            make.metric("emea.cycle", "Cut the average sales cycle from 62 to 45 days", "days",
                        62, 45, path=_BEHIND, noise=0.08),
            make.binary("emea.hire-ae", "Hire a German-speaking account executive", 0.4),
        ]),
        obj("sales-na", "Build a repeatable outbound engine in North America", "Marcus Reid",
            "sales", [
                make.metric("na.meetings", "Book 120 qualified meetings", "meetings", 0, 120,
                            path=_STEADY, noise=0.03, cumulative=True,
                            owners=["Jasmine Wright"]),
                make.metric("na.win-rate", "Raise the win rate from 18% to 25%", pct, 18, 25,
                            path=_FLAT, step=0.5, noise=0.08),
                make.ranged("na.discount", "Keep the average discount under 15%", pct, 10,
                            Range(yellow_high=15, red_high=20, mode="graded"),
                            path=((0.0, 10.5), (0.5, 15.5), (1.0, 13.0)), noise=0.6, step=0.1),
                Milestone(id="na.playbook", name="Publish the outbound playbook",
                          owners=("Mei Chen",), due=_end_of(2026, 2, 28),
                          checkpoints=checklist(rng.randint(2, 3), (
                              "Ideal customer profile", "Messaging by persona",
                              "Sequence templates", "Objection handling", "Handover to AEs"))),
            ]),
        obj("sales-sdr", "Scale the SDR team's pipeline generation", "Tyler Brooks", "sales-na", [
            make.metric("sdr.emails", "Send 6,000 personalised outbound emails", "emails", 0,
                        6000, path=_AHEAD, step=10, cumulative=True),
            make.metric("sdr.reply-rate", "Lift the reply rate from 1.5% to 4%", pct, 1.5, 4,
                        path=_SLOW_START, step=0.1, noise=0.05, owners=["Jasmine Wright"]),
            make.metric("sdr.lead-response", "Cut lead response time from 6h to 1h", "min",
                        360, 60, path=_STEADY, step=5, noise=0.04, until=0.3),
        ]),
        # --- Marketing ----------------------------------------------------------------------
        obj("marketing", "Fill the funnel with qualified demand", "Priya Raman", "co-growth", [
            make.metric("mkt.mqls", "Generate 4,000 marketing-qualified leads", "leads", 0,
                        4000, path=_STEADY, step=5, cumulative=True),
            make.metric("mkt.signups", "Grow trial signups from 900 to 1,500 a month",
                        "signups", 900, 1500, path=_SLOW_START, noise=0.04,
                        owners=["Lena Fischer"]),
            make.metric("mkt.cpl", "Reduce cost per lead from $140 to $95", usd, 140, 95,
                        path=_REGRESS, noise=0.03),
            make.binary("mkt.website", "Launch the new brand and website", 0.62,
                        owners=["Jonas Berg"]),
        ], include_children=True),
        obj("mkt-growth", "Turn the website into our best sales rep", "Lena Fischer",
            "marketing", [
                make.metric("growth.conversion", "Lift signup conversion from 2.1% to 3%", pct,
                            2.1, 3.0, path=_STEADY, step=0.05, noise=0.06),
                make.metric("growth.traffic", "Grow organic traffic to 60k visits a month",
                            "visits", 35_000, 60_000, path=_BEHIND, step=100, noise=0.03,
                            owners=["Mei Chen"]),
                make.metric("growth.experiments", "Ship 8 pricing-page experiments",
                            "experiments", 0, 8, path=_AHEAD, noise=0.05, cumulative=True),
                make.staged("growth.cms", "Migrate the website to a new CMS (in 4 stages)",
                            (0.15, 0.4, 0.62, 0.85), total=4, owners=["Tomás Silva"],
                            due=_end_of(2026, 3, 15)),
            ]),
        obj("mkt-brand", "Make Finlytic the name CFOs trust", "Jonas Berg", "marketing", [
            make.metric("brand.mentions", "Earn 25 analyst and press mentions", "mentions", 0, 25,
                        path=_BEHIND, noise=0.04, cumulative=True, every=10),
            make.metric("brand.roundtables", "Host 3 CFO roundtables", "events", 0, 3,
                        path=_STEADY, noise=0.0, cumulative=True, every=21),
            make.metric("brand.newsletter", "Grow the newsletter to 12k subscribers",
                        "subscribers", 7000, 12_000, path=_STEADY, step=10, noise=0.02,
                        owners=["Mei Chen"]),
            make.metric("brand.share-of-voice", "Track our share of voice (not scored)", pct,
                        12, 20, path=_FLAT, step=0.5, noise=0.1, weight=0.0, every=14),
        ], ambition="aspirational"),
        # --- Customer Success ---------------------------------------------------------------
        obj("cs", "Keep every customer we win", "Fatima Al-Sayed", "co-growth", [
            make.metric("cs.churn", "Reduce monthly logo churn from 2.4% to 1.5%", pct, 2.4, 1.5,
                        path=_BEHIND, step=0.1, noise=0.12, every=30),
            make.ranged("cs.nps", "Raise NPS from 38 to 50", "NPS", 50,
                        Range(red_low=25, yellow_low=32, mode="linear"), start=38,
                        path=((0.0, 38.0), (0.4, 41.0), (1.0, 49.0)), noise=2.0, step=1,
                        every=14, owners=["Noah Williams"]),
            make.metric("cs.nrr", "Grow net revenue retention from 104% to 110%", pct, 104, 110,
                        path=_STEADY, step=0.5, noise=0.06, hi=200),
            Milestone(id="cs.health", name="Roll out account health scores",
                      owners=("Hannah Kowalski", "Chloe Martin"), due=_end_of(2026, 3, 31),
                      checkpoints=checklist(rng.randint(1, 2), (
                          "Define the score", "Pipe in product usage", "Score every account",
                          "Playbook per band"))),
        ]),
        obj("cs-support", "Answer every customer fast and well", "Diego Alvarez", "cs", [
            make.metric("support.first-response", "Reduce first-response time to 2h", "min", 240,
                        120, path=_STEADY, step=5, noise=0.06),
            make.metric("support.resolved-24h", "Resolve 85% of tickets within 24h", pct, 70, 85,
                        path=_SLOW_START, step=0.5, noise=0.05, hi=100),
            make.ranged("support.csat", "Keep CSAT at 95%", pct, 95,
                        Range(red_low=88, yellow_low=92, mode="band"),
                        path=((0.0, 95.5), (0.45, 92.5), (1.0, 95.0)), noise=0.8, step=0.1),
            make.metric("support.articles", "Publish 40 help-centre articles", "articles", 0, 40,
                        path=_STEADY, noise=0.03, cumulative=True, until=0.3,
                        owners=["Mei Chen"]),
        ]),
        obj("cs-accounts", "Grow our top 50 accounts", "Hannah Kowalski", "cs", [
            make.metric("accounts.upsell", "Upsell $120k to the top-50 accounts", usd, 0, 120_000,
                        path=_AHEAD, step=500, cumulative=True, owners=["Noah Williams"]),
            make.metric("accounts.renewals", "Renew $300k of contracts due this quarter", usd, 0,
                        300_000, path=_SLOW_START, step=500, cumulative=True),
            make.metric("accounts.qbrs", "Run 50 quarterly business reviews", "reviews", 0, 50,
                        path=_STEADY, noise=0.03, cumulative=True, owners=["Noah Williams"]),
        ], progress_settings=ProgressSettings(unit=usd, auto=True)),
        # --- Engineering --------------------------------------------------------------------
        obj("engineering", "Ship a platform customers can rely on", "Hiroshi Tanaka", "co-scale", [
            make.ranged("eng.uptime", "Keep API uptime at 99.9%", pct, 99.9,
                        Range(red_low=99.5, yellow_low=99.8, mode="band"),
                        path=((0.0, 99.95), (0.4, 99.86), (0.5, 99.8), (1.0, 99.93)),
                        noise=0.03, step=0.01, weight=2.0, owners=["Olga Petrova"]),
            make.metric("eng.p1-response", "Cut P1 incident response from 45 to 15 minutes",
                        "min", 45, 15, path=_STEADY, noise=0.08, owners=["Ravi Menon"]),
            Milestone(id="eng.api-v2", name="Release the public API v2", due=_end_of(2026, 3, 20),
                      checkpoints=checklist(rng.randint(2, 3), (
                          "Spec reviewed", "Auth and rate limits", "Endpoints migrated",
                          "SDKs published", "Docs live"))),
            make.metric("eng.cloud-cost", "Cut cloud cost per customer from $38 to $30", usd, 38,
                        30, path=_FLAT, step=0.1, noise=0.05,
                        owners=["Olga Petrova"]),
            Milestone(id="eng.soc2", name="Pass the SOC 2 Type II audit", done=False,
                      due=_end_of(2026, 3, 27)),
        ]),
        obj("eng-platform", "Make the platform boringly reliable", "Olga Petrova", "engineering", [
            make.ranged("platform.latency", "Keep p95 API latency under 300 ms", "ms", 200,
                        Range(yellow_high=300, red_high=450, mode="graded"),
                        path=((0.0, 260.0), (0.5, 330.0), (1.0, 240.0)), noise=15.0, step=1),
            make.metric("platform.rollbacks", "Reduce the deploy rollback rate from 8% to 2%",
                        pct, 8, 2, path=_STEADY, step=0.1, noise=0.07,
                        owners=["Kenji Watanabe"]),
            make.metric("platform.coverage", "Raise test coverage from 61% to 80%", pct, 61, 80,
                        path=_SLOW_START, step=0.1, noise=0.02, owners=["Aisha Bello"], hi=100),
            make.staged("platform.k8s", "Move all services to Kubernetes (in 6 stages)",
                        (0.1, 0.22, 0.36, 0.5, 0.75, 0.95), total=6, owners=["Kenji Watanabe"]),
        ]),
        obj("eng-sre", "Catch incidents before customers do", "Ravi Menon", "eng-platform", [
            make.metric("sre.mttd", "Reduce mean time to detect from 30 to 5 minutes", "min",
                        30, 5, path=_AHEAD, noise=0.05),
            make.metric("sre.alerting", "Alert on 100% of tier-1 services", pct, 40, 100,
                        path=_STEADY, step=1, noise=0.03, until=0.35, hi=100,
                        owners=["Kenji Watanabe"]),
            Binary(id="sre.game-day", name="Run a production game day", done=True),
        ]),
        obj("eng-product", "Deliver the Q1 product roadmap", "Chloe Martin", "engineering", [
            make.binary("product.multicurrency", "Ship multi-currency invoicing", None),
            make.staged("product.bank-feeds", "Ship bank-feed integrations (in 5 stages)",
                        (0.25, 0.55, 0.85), total=5, owners=["Tomás Silva"]),
            make.metric("product.bugs-closed", "Close 150 customer-reported bugs", "bugs", 0, 150,
                        path=_BEHIND, noise=0.03, cumulative=True, owners=["Aisha Bello"]),
            make.metric("product.p2-backlog", "Reduce open P2 bugs from 90 to 40", "bugs", 90, 40,
                        path=_REGRESS, noise=0.03),
        ], status="at_risk"),
        # --- People -------------------------------------------------------------------------
        obj("people", "Hire and grow the team we need to scale", "Nadia Haddad", "co-scale", [
            make.metric("people.hires", "Hire 18 engineers", "hires", 0, 18, path=_BEHIND,
                        noise=0.03, cumulative=True, weight=2.0, owners=["Grace Kim"]),
            make.metric("people.time-to-hire", "Reduce time-to-hire from 52 to 35 days", "days",
                        52, 35, path=_STEADY, noise=0.07, owners=["Ben Carter"]),
            Metric(id="people.enps", name="Keep eNPS at 30 or above", unit="eNPS", target=30,
                   range=Range(red_low=10, yellow_low=20, mode="band"),
                   current=rng.randint(18, 34)),
            make.binary("people.careers", "Launch the career framework", 0.85),
        ]),
        obj("people-talent", "Build a hiring engine that scales", "Ben Carter", "people", [
            make.metric("talent.sourced", "Source 400 qualified candidates", "candidates", 0,
                        400, path=_AHEAD, noise=0.03, cumulative=True, owners=["Grace Kim"]),
            make.metric("talent.acceptance", "Raise offer acceptance from 70% to 85%", pct, 70,
                        85, path=_FLAT, step=1, noise=0.1, hi=100),
            make.metric("talent.interviewers", "Train 30 interviewers", "interviewers", 0, 30,
                        path=_SLOW_START, noise=0.03, cumulative=True, every=10,
                        owners=["Olga Petrova"]),
            make.binary("talent.referrals", "Launch the employee referral programme", 0.2),
        ]),
    ]
    return objectives


def generate_organisation(seed: int = 7, as_of: datetime | None = None) -> Document:
    """Generate the sample organisation for Q1 2026.

    Parameters
    ----------
    seed : int
        Seed of the :class:`random.Random` that draws every value and check-in instant; the
        same seed gives the same document.
    as_of : datetime or None
        The instant of evaluation (timezone-aware); default :data:`DEFAULT_AS_OF`
        (2026-02-15T12:00Z).  It does not change the generated history: check-ins cover the
        whole quarter and the evaluation ignores those after ``as_of``.

    Returns
    -------
    Document
        Eighteen objectives in four alignment levels (company, department, team, squad),
        27 people, the ``betterworks`` policy.  Every check-in lies within the quarter
        (2026-01-01T00:00Z to 2026-03-31T23:59Z).

    Notes
    -----
    The organisation shows every rule of the calculation: company objectives without key
    results roll up their children; Sales sums its dollar metrics against a fixed goal of
    $1.1M, Customer Success "top 50 accounts" against the automatic sum of its dollar targets;
    Marketing counts its aligned children beside its own key results; the brand objective is
    aspirational; the product roadmap carries a manual ``at_risk`` status; one key result has
    weight 0 and a few weight 2.
    """
    rng = random.Random(seed)
    objectives = _company(_Maker(rng), rng)
    return Document(as_of=DEFAULT_AS_OF if as_of is None else as_of, objectives=objectives)


# ------------------------------------------------------------------------------------------------
# Rendering
# ------------------------------------------------------------------------------------------------

_WIDTH: Final = 110
"""Lines are kept within this many columns (a very deep tree may push past it)."""
_NAME_COL: Final = 50
"""Where an objective line's numbers start; a longer name gets them on the next line."""
_BAR_CELLS: Final = 20
_MAX_ERRORS_SHOWN: Final = 20

_ANSI: Final = {"green": "32", "yellow": "33", "red": "31", "dim": "2", "bold": "1", "cyan": "36"}
_ARROWS: Final = {"progressed": "↗", "stalled": "→", "regressed": "↘"}
_TREND_STYLE: Final = {"progressed": "green", "stalled": "dim", "regressed": "red"}
_RANGE_KINDS: Final = {"band": "range band", "graded": "range grad", "linear": "range lin"}


class _Painter:
    """Applies ANSI styles when colour is on; padding is always done on the plain text."""

    def __init__(self, on: bool) -> None:
        self.on = on

    def __call__(self, text: str, style: str | None) -> str:
        if not self.on or style is None or not text.strip():
            return text
        return f"\x1b[{_ANSI[style]}m{text}\x1b[0m"


def _percent(progress: float | None) -> str:
    """Progress as a percentage with one decimal (1/3 -> ``33.3%``); ``None`` -> ``—``."""
    return "—" if progress is None else f"{progress * 100:.1f}%"


def _bar(progress: float | None, cells: int) -> tuple[str, str]:
    """The filled and empty parts of a progress bar (progress above 1 fills the bar)."""
    if progress is None:
        return "", "·" * cells
    filled = round(min(max(progress, 0.0), 1.0) * cells)
    return "█" * filled, "░" * (cells - filled)


def _number(value: float) -> str:
    """A compact human number: 1.25M, 212.3k, 4,000, 99.87."""
    magnitude = abs(value)
    if magnitude >= 1e6:
        return f"{value / 1e6:.2f}".rstrip("0").rstrip(".") + "M"
    if magnitude >= 1e4:
        return f"{value / 1e3:.1f}".rstrip("0").rstrip(".") + "k"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _quantity(value: float, unit: str) -> str:
    """A number with its unit: ``$212.3k``, ``2.4%``, ``120 min``."""
    if unit == "USD":
        return ("-$" if value < 0 else "$") + _number(abs(value))
    if unit == "%":
        return _number(value) + "%"
    return _number(value) if not unit else f"{_number(value)} {unit}"


def _kr_value(kr: KeyResult, current: float | bool, strict: bool = False) -> str:
    """The key result's current value against its target, with the unit.

    A ``band`` or ``graded`` range shows its green zone instead of the target (``< 300 ms``,
    ``> 99.8%``, or ``92 to 96%``); with ``strict`` breakpoints a value on a limit is still green.
    """
    if isinstance(kr, Metric):
        now = _number(float(current))
        if kr.unit == "USD":
            now = _quantity(float(current), "USD")
        goal = _quantity(float(kr.target), kr.unit)
        bounds = kr.range
        if bounds is not None and bounds.mode != "linear":
            low, high = bounds.yellow_low, bounds.yellow_high
            above, below = ("≥", "≤") if strict else (">", "<")
            if low is not None and high is not None:
                goal = f"{_number(float(low))} to {_quantity(float(high), kr.unit)}"
            elif low is not None:
                goal = above + _quantity(float(low), kr.unit)
            elif high is not None:
                goal = below + _quantity(float(high), kr.unit)
        return f"{now} / {goal}"
    if isinstance(kr, Binary):
        return "done" if current else "not done"
    if kr.checkpoints is not None:
        return f"{int(current)} / {kr.total} steps"
    if kr.stages_total is not None:
        return f"{int(current)} / {kr.total} stages"
    return "done" if current else "open"


def _kr_kind(kr: KeyResult) -> str:
    """A short label of the key result's kind: ``metric ↑``, ``range band``, ``stages``..."""
    if isinstance(kr, Metric):
        if kr.range is not None:
            return _RANGE_KINDS[kr.range.mode]
        return "metric ↑" if kr.direction > 0 else "metric ↓"
    if isinstance(kr, Binary):
        return "binary"
    if kr.checkpoints is not None:
        return "checklist"
    return "stages" if kr.stages_total is not None else "milestone"


def _clip(text: str, width: int) -> str:
    """Cut ``text`` to ``width`` columns with an ellipsis."""
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _plural(count: int, word: str) -> str:
    """``1 KR``, ``3 KRs``."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def _wrap(parts: Sequence[str], width: int, separator: str = " · ") -> list[str]:
    """Join ``parts`` with ``separator`` into lines of at most ``width`` columns."""
    lines: list[str] = []
    for part in parts:
        if lines and len(lines[-1]) + len(separator) + len(part) <= width:
            lines[-1] += separator + part
        else:
            lines.append(_clip(part, width))
    return lines


def _day(moment: datetime, end: bool = False) -> str:
    """The calendar day of an instant; for an end instant at midnight, the day before."""
    utc = moment.astimezone(UTC)
    if end and utc.hour == utc.minute == utc.second == utc.microsecond == 0:
        utc -= timedelta(microseconds=1)
    return utc.date().isoformat()


class _Row:
    """One key result line before layout."""

    def __init__(self, kind: str, name: str, value: str, result: KeyResultResult | None,
                 flags: list[tuple[str, str | None]], owners: Sequence[str]) -> None:
        self.kind = kind
        self.name = name
        self.value = value
        self.result = result
        self.flags = flags
        self.owners = ", ".join(owners)

    @property
    def flag_width(self) -> int:
        return len(" ".join(text for text, _ in self.flags))


class _Renderer:
    """Draws one document and its evaluation, line by line."""

    def __init__(self, document: Document, evaluation: Evaluation, colour: bool) -> None:
        self.document = document
        self.evaluation = evaluation
        self.paint = _Painter(colour)
        self.lines: list[str] = []
        self.nodes: dict[str, tuple[int, Objective | InvalidObjective]] = {}
        for index, node in enumerate(document.objectives):
            if node.id is not None and node.id not in self.nodes:
                self.nodes[node.id] = (index, node)
        self.children: dict[str, list[str]] = {oid: [] for oid in self.nodes}
        self.roots: list[str] = []
        for oid, (_, node) in self.nodes.items():
            if node.parent is not None and node.parent in self.nodes and node.parent != oid:
                self.children[node.parent].append(oid)
            else:
                self.roots.append(oid)
        self.drawn: set[str] = set()

    # -- pieces ------------------------------------------------------------------------------
    def colour_word(self, colour: str | None) -> str:
        word = colour or "—"
        return self.paint(word, colour) + " " * (6 - len(word))

    def trend(self, trend: str | None) -> str:
        return " " if trend is None else self.paint(_ARROWS[trend], _TREND_STYLE[trend])

    def bar(self, progress: float | None, colour: str | None) -> str:
        filled, empty = _bar(progress, _BAR_CELLS)
        return self.paint(filled, colour or "cyan") + self.paint(empty, "dim")

    def depth_of(self, oid: str) -> int:
        depth, seen = 0, {oid}
        parent = self.nodes[oid][1].parent
        while parent is not None and parent in self.nodes and parent not in seen:
            seen.add(parent)
            depth += 1
            parent = self.nodes[parent][1].parent
        return depth

    def errors_of(self, oid: str) -> list[str]:
        """The error codes reported at the objective's own path."""
        prefix = f"objectives[{self.nodes[oid][0]}]"
        codes = []
        for error in self.evaluation.errors:
            rest = error.path[len(prefix):] if error.path.startswith(prefix) else None
            if rest is not None and (not rest or rest[0] == ".") and error.code not in codes:
                codes.append(error.code)
        return codes

    # -- objectives --------------------------------------------------------------------------
    def objective(self, oid: str, lead: str, cont: str, depth: int) -> None:
        self.drawn.add(oid)
        node = self.nodes[oid][1]
        kids = [k for k in self.children[oid] if k not in self.drawn]
        stem = cont + ("│" if kids else " ")
        title = getattr(node, "name", "") or oid
        head = self.paint(lead, "dim") + self.paint(title, "bold" if depth == 0 else None)
        result = self.evaluation.objectives.get(oid)
        if result is None:
            note = "error: " + (", ".join(self.errors_of(oid)) or "not evaluated")
            self.lines.append(f"{head}  {self.paint(note, 'red')}")
        else:
            stats = (f"{self.bar(result.progress, result.colour)} {_percent(result.progress):>6}"
                     f" exp {_percent(result.expected):>6}  {self.colour_word(result.colour)} "
                     f"{result.mode:<4} {self.trend(result.trend)}")
            if result.stale:
                stats += " " + self.paint("stale", "yellow")
            width = len(lead) + len(title)
            if width + 1 > _NAME_COL:
                self.lines.append(head)
                self.lines.append(self.paint(stem, "dim") + " " * (_NAME_COL - len(stem)) + stats)
            else:
                self.lines.append(head + " " * (_NAME_COL - width) + stats)
            for text in _wrap(self.details(node, result), _WIDTH - len(stem) - 2):
                self.lines.append(self.paint(f"{stem}  {text}", "dim"))
        self.key_results(node, stem + "  ")
        for index, kid in enumerate(kids):
            last = index == len(kids) - 1
            self.objective(kid, cont + ("└─ " if last else "├─ "),
                           cont + ("   " if last else "│  "), depth + 1)

    def details(self, node: Objective | InvalidObjective, result: ObjectiveResult) -> list[str]:
        expl = result.explanation
        parts = [f"owner {result.owner}" if result.owner else "no owner"]
        counted = [i for i in expl.items if i.contributes]
        krs = sum(1 for i in counted if i.type == "key_result")
        kids = sum(1 for i in counted if i.type == "objective")
        idle = sum(1 for i in expl.items if i.type == "key_result" and not i.contributes)
        if expl.rule == "children":
            parts.append(f"mean of {_plural(kids, 'aligned objective')}")
        elif expl.rule == "empty":
            parts.append("nothing to count yet")
        else:
            if expl.mode == "sum" and expl.unit is not None and expl.value is not None:
                target = _quantity(expl.target or 0.0, expl.unit)
                text = (f"sum of {_plural(krs, expl.unit + ' KR')}: "
                        f"{_quantity(expl.value, expl.unit)} of {target} "
                        f"({expl.target_rule or 'given'} target)")
            else:
                text = f"mean of {_plural(krs, 'KR')}"
                if idle:
                    text += f" ({idle} not counted)"
            if kids:
                text += f" + {_plural(kids, 'aligned objective')}"
            parts.append(text)
        if result.forecast is not None:
            parts.append(f"forecast {_percent(result.forecast.progress)} "
                         f"{result.forecast.colour}")
        source = expl.colour
        if source is not None and source.source == "breakpoint":
            hit = next((kr for kr in node.key_results if kr.id == source.reason), None)
            label = getattr(hit, "name", "") or source.reason
            parts.append(f"{result.computed_colour} from a range limit: {label}")
        if isinstance(node, Objective) and node.ambition == "aspirational":
            parts.append("aspirational")
        if result.manual_status is not None:
            parts.append(f"manual status {result.manual_status} "
                         f"(computed {result.computed_colour or 'none'})")
        return parts

    # -- key results -------------------------------------------------------------------------
    def row(self, kr: KeyResult | InvalidKeyResult, node: Objective | InvalidObjective) -> _Row:
        result = None if kr.id is None else self.evaluation.key_results.get(kr.id)
        if result is None or isinstance(kr, InvalidKeyResult):
            codes = sorted({e.code for e in kr.errors}) if isinstance(kr, InvalidKeyResult) else []
            name = kr.name if not isinstance(kr, InvalidKeyResult) and kr.name else str(kr.id)
            return _Row("invalid", name, "", None,
                        [("error: " + (", ".join(codes) or "not evaluated"), "red")], ())
        flags: list[tuple[str, str | None]] = []
        if result.stale:
            flags.append(("stale", "yellow"))
        if not result.contributes:
            flags.append(("w0", "dim") if result.weight == 0 else ("not summed", "dim"))
        elif result.weight != 1:
            flags.append((f"w{result.weight:g}", None))
        owners = [p for p in result.owners if p != node.owner]
        value = _kr_value(kr, result.current, self.evaluation.policy.strict_breakpoints)
        return _Row(_kr_kind(kr), kr.name or kr.id, value, result, flags, owners)

    def key_results(self, node: Objective | InvalidObjective, prefix: str) -> None:
        rows = [self.row(kr, node) for kr in node.key_results]
        if not rows:
            return
        kind_w = max(len(r.kind) for r in rows)
        value_w = max(len(r.value) for r in rows)
        flag_w = max(r.flag_width for r in rows)
        fixed = len(prefix) + kind_w + 1 + 2 + value_w + 2 + 6 + 2 + 6 + 1 + 1
        room = max(_WIDTH - fixed - (flag_w + 1 if flag_w else 0), 16)
        name_w = min(max(len(r.name) for r in rows), room)
        for r in rows:
            line = (self.paint(prefix + f"{r.kind:<{kind_w}} ", "dim")
                    + f"{_clip(r.name, name_w):<{name_w}}  {r.value:>{value_w}}  ")
            if r.result is not None:
                line += (f"{_percent(r.result.progress):>6}  {self.colour_word(r.result.colour)} "
                         f"{self.trend(r.result.trend)}")
            flags = " ".join(self.paint(text, style) for text, style in r.flags)
            self.lines.append((line + " " + flags).rstrip())
            if r.owners:
                self.lines.append(self.paint(prefix, "dim") + " " * (kind_w + 1)
                                  + self.paint(f"↳ {r.owners}", "cyan"))

    # -- the page ----------------------------------------------------------------------------
    def header(self) -> None:
        ev, doc = self.evaluation, self.document
        policy, pace = ev.policy, ev.policy.pace
        if pace.rule == "ratio":
            times = "\N{MULTIPLICATION SIGN}"
            rule = f"yellow ≤ {pace.yellow:g}{times}expected, red ≤ {pace.red:g}{times}expected"
        elif pace.rule == "difference":
            rule = f"yellow ≤ expected {pace.yellow:+g}, red ≤ expected {pace.red:+g}"
        else:
            rule = f"yellow {pace.yellow:g}+ points behind, red {pace.red:g}+ points behind"
        cap = "uncapped" if policy.cap is None else f"cap {policy.cap * 100:g}%"
        valid = [o for o in doc.objectives if isinstance(o, Objective)]
        timelines = {(o.start, o.due) for o in valid if o.start is not None and o.due is not None}
        levels = 1 + max((self.depth_of(oid) for oid in self.nodes), default=-1)
        krs = sum(len(o.key_results) for o in doc.objectives)
        errors = len(ev.errors)
        self.lines.append(self.paint(f"okrcore · OKR progress as of {ev.as_of}", "bold"))
        if len(timelines) == 1:
            start, due = next(iter(timelines))
            assert start is not None and due is not None
            expected = next((o.expected for o in ev.objectives.values()), None)
            self.lines.append(f"period {_day(start)} → {_day(due, end=True)} · expected progress "
                              f"{_percent(expected)} (linear timeline)")
        self.lines.append(f"policy {policy.preset} · pace {pace.rule}: {rule} · {cap} · stale "
                          f"after {policy.stale_days:g} days")
        self.lines.append(
            f"{_plural(len(doc.objectives), 'objective')} in {_plural(levels, 'level')} · "
            f"{_plural(krs, 'key result')} · "
            f"{len(ev.people)} {'person' if len(ev.people) == 1 else 'people'} · "
            + self.paint(_plural(errors, "error"), "red" if errors else "green"))
        self.lines.append("")

    def tree(self) -> None:
        self.lines.append(self.paint("Objectives", "bold") + self.paint(
            "  bar · progress · expected · colour · rollup · trend, then the key results", "dim"))
        for oid in [*self.roots, *self.nodes]:
            if oid not in self.drawn:
                self.lines.append("")
                self.objective(oid, "", "", 0)
        self.lines.append("")

    def people(self) -> None:
        people = sorted(self.evaluation.people.values(),
                        key=lambda p: (p.progress is None, -(p.progress or 0.0), p.id))
        self.lines.append(self.paint(f"People ({len(people)})", "bold") + self.paint(
            "  objectives they own + key results they own on others' objectives", "dim"))
        width = min(max([4, *(len(p.id) for p in people)]), 28)
        for person in people:
            owned = sum(1 for i in person.items if i.type == "objective")
            krs = len(person.items) - owned
            count = _plural(len(person.items), "item")
            detail = f"{_plural(owned, 'objective')}, {_plural(krs, 'KR')}"
            self.lines.append(f"  {_clip(person.id, width):<{width}}  "
                              f"{self.bar(person.progress, None)} {_percent(person.progress):>6}"
                              f"  {count:<8} " + self.paint(detail, "dim"))
        self.lines.append("")

    def summary(self) -> None:
        ev = self.evaluation

        def tally(colours: Sequence[str | None]) -> str:
            parts = [self.paint(f"{colours.count(c)} {c}", c) for c in ("green", "yellow", "red")]
            if None in colours:
                parts.append(f"{colours.count(None)} without a colour")
            return " · ".join(parts)

        objectives = list(ev.objectives.values())
        krs = list(ev.key_results.values())
        manual = sum(1 for o in objectives if o.manual_status is not None)
        stale = sum(1 for k in krs if k.stale)
        regressed = sum(1 for k in krs if k.trend == "regressed")
        errors = len(ev.errors)
        self.lines.append(self.paint("Summary", "bold"))
        self.lines.append(f"  objectives   {len(objectives):>3}  "
                          + tally([o.colour for o in objectives])
                          + (f" ({manual} set by a manual status)" if manual else ""))
        self.lines.append(f"  key results  {len(krs):>3}  " + tally([k.colour for k in krs])
                          + f" · {stale} stale · {regressed} regressed")
        self.lines.append("  errors       "
                          + self.paint(f"{errors:>3}", "red" if errors else "green"))
        for error in ev.errors[:_MAX_ERRORS_SHOWN]:
            text = _clip(f"    {error.code} at {error.path}: {error.message}", _WIDTH)
            self.lines.append(self.paint(text, "red"))
        if errors > _MAX_ERRORS_SHOWN:
            self.lines.append(f"    … and {errors - _MAX_ERRORS_SHOWN} more")
        days = f"{ev.policy.stale_days:g}"
        self.lines.append(self.paint(
            f"  ↗ progressed → stalled ↘ regressed since the previous check-in · stale: no check-in"
            f" for {days} days · w2: weight", "dim"))


def render(document: Document, evaluation: Evaluation, colour: bool) -> str:
    """Draw a document and its evaluation as terminal text.

    Parameters
    ----------
    document : Document
        The evaluated document (for names, kinds, units, targets and the alignment tree).
    evaluation : Evaluation
        Its result, from :func:`okrcore.evaluate.evaluate`.
    colour : bool
        Colour the colour words, bars, trend arrows and owners with ANSI escapes.

    Returns
    -------
    str
        A header (as_of, period, policy, counts); the alignment tree, one line per objective
        with its name, a 20-cell progress bar, progress and expected progress in percent (one
        decimal: 1/3 shows as ``33.3%``), the colour, the rollup mode (``mean``/``sum``) and
        the trend arrow, then a dim line with the owner, how the progress was computed and the
        forecast, then its key results (kind, name and owners from other teams, current /
        target with unit, progress, colour, trend, ``stale`` and weight markers); a people
        table sorted by progress; and a summary of colours and errors.  Lines stay within 110
        columns for trees up to five levels deep; objective names are never cut (a long one
        gets its numbers on the next line), key result names only when there is no room.
    """
    renderer = _Renderer(document, evaluation, colour)
    renderer.header()
    renderer.tree()
    renderer.people()
    renderer.summary()
    return "\n".join(line.rstrip() for line in renderer.lines)


def _through_sqlite(document: Document, path: str) -> tuple[Document, Evaluation, str]:
    """Store the document in an SQLite file, recompute it there, read the stored results back.

    The recompute is the ``okrcore recompute sqlite:///PATH`` job
    (:func:`okrcore.jobs.run.recompute`), which runs the SQLAlchemy adapter's columnar
    recompute.  Returns the document and evaluation read back from the database and the job's
    summary.
    """
    import io

    from sqlalchemy import create_engine

    import okrcore_sqlalchemy as store
    from okrcore.jobs.command import render_summary
    from okrcore.jobs.run import recompute

    url = f"sqlite:///{path}"
    engine = create_engine(url)
    try:
        store.store_document(engine, document)
        report = recompute(url, instants=(document.as_of,), policy=document.policy)
        stored = store.load_document(engine)
        evaluation = store.load_evaluation(engine, as_of=document.as_of)
    finally:
        engine.dispose()
    summary = io.StringIO()
    render_summary(report, summary)
    return stored, evaluation, summary.getvalue().rstrip("\n")


def run_demo(
    seed: int = 7, as_of: str | None = None, colour: str = "auto", output: str | None = None,
    database: str | None = None,
) -> int:
    """Generate the sample organisation, recompute it in SQLite and print it (``okrcore demo``).

    The organisation is written into an SQLite file through the SQLAlchemy adapter
    (:func:`okrcore_sqlalchemy.store_document`), recomputed there by the ``okrcore recompute``
    job (:func:`okrcore.jobs.run.recompute`, which calls :func:`okrcore_sqlalchemy.recompute`),
    and what is printed is read back from the database: the stored organisation and its stored
    results, then the job's summary.

    Parameters
    ----------
    seed : int
        Seed of :func:`generate_organisation`.
    as_of : str or None
        The instant of evaluation, ISO 8601 (``2026-03-01`` or ``2026-03-01T09:00:00Z``); an
        instant without an offset is UTC.  Default :data:`DEFAULT_AS_OF`.
    colour : {"auto", "always", "never"}
        ANSI colours: ``auto`` when standard output is a terminal.
    output : str or None
        Also write the generated document (interchange format v1, JSON) to this file.
    database : str or None
        The SQLite file to use (kept afterwards); default a temporary file, removed at the end.

    Returns
    -------
    int
        0 on success; 2, with one line on standard error, for a bad ``as_of`` or ``colour``,
        an ``output`` that cannot be written, or a missing ``sqlalchemy`` extra.
    """
    when: datetime | None = None
    if as_of is not None:
        try:
            when = parse_instant(as_of, "--as-of")
        except OkrValueError as exc:
            print(f"okrcore demo: {exc.message}", file=sys.stderr)
            return _EXIT_USAGE
    if colour not in ("auto", "always", "never"):
        print(f"okrcore demo: --colour must be auto, always or never, got {colour!r}",
              file=sys.stderr)
        return _EXIT_USAGE
    document = generate_organisation(seed, when)
    if output is not None:
        try:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(dumps(document) + "\n")
        except OSError as exc:
            print(f"okrcore demo: cannot write {output}: {exc.strerror}", file=sys.stderr)
            return _EXIT_USAGE
    try:
        import okrcore_sqlalchemy  # noqa: F401
    except ImportError:
        print("okrcore demo: the demo runs on SQLite through the SQLAlchemy adapter: "
              "pip install 'okrcore[sqlalchemy]'", file=sys.stderr)
        return _EXIT_USAGE
    with tempfile.TemporaryDirectory(prefix="okrcore-demo-") as scratch:
        path = database or os.path.join(scratch, "okrcore-demo.db")
        stored, evaluation, summary = _through_sqlite(document, path)
    on = colour == "always" or (colour == "auto" and sys.stdout.isatty())
    where = f"\nkept in {database}" if database else ""
    sys.stdout.write(render(stored, evaluation, on) + "\n" + summary + where + "\n")
    return _EXIT_OK
