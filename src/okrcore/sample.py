"""The sample organisation of ``okrcore demo``: a deterministic (seeded) company for Q1 2026.

:func:`generate_organisation` builds a company level whose two objectives roll up their
departments, departments (Sales, Marketing, Customer Success, Engineering, People) and teams under
them, so that alignment is four levels deep.  Every department and team objective has three to
five key results of every kind (increase and reduction metrics, range metrics in ``band``,
``graded`` and ``linear`` mode, binary, simple, staged and checkpoint milestones), a weekly-ish
check-in history with noisy trends, some stale and some regressing key results, and owners who
also own key results on other teams' objectives.  Only the public model (:mod:`okrcore.model`) is
used, and the document is valid: evaluating it reports no errors.

:mod:`okrcore.jobs.sample` makes large organisations of many copies of it; :mod:`okrcore.demo`
stores it in SQLite, recomputes it there and draws it with :mod:`okrcore.render`.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Final, Literal

from okrcore.model import (
    Binary,
    CheckIn,
    Checkpoint,
    Document,
    KeyResult,
    Metric,
    Milestone,
    Objective,
    ProgressSettings,
    Range,
)

__all__ = ["DEFAULT_AS_OF", "QUARTER_DUE", "QUARTER_START", "generate_organisation"]


QUARTER_START: Final = datetime(2026, 1, 1, tzinfo=UTC)
"""Start of the sample quarter (Q1 2026): 2026-01-01T00:00Z."""
QUARTER_DUE: Final = datetime(2026, 4, 1, tzinfo=UTC)
"""Due instant of the sample quarter: the end of 2026-03-31, i.e. 2026-04-01T00:00Z."""
DEFAULT_AS_OF: Final = datetime(2026, 2, 15, 12, tzinfo=UTC)
"""The instant the demo evaluates at unless told otherwise (mid-quarter)."""

_QUARTER_DAYS: Final = (QUARTER_DUE - QUARTER_START).days


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
