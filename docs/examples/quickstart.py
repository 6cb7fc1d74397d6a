"""Build a document with the model classes, evaluate it and print the results."""

from datetime import UTC, datetime

import okrcore
from okrcore import Binary, CheckIn, Document, Metric, Milestone, Objective

start = datetime(2026, 1, 1, tzinfo=UTC)
due = datetime(2026, 4, 1, tzinfo=UTC)  # the end of 31 March

company = Objective(
    id="company",
    owner="cara",
    start=start,
    due=due,
    name="Become the default choice for mid-size retailers",
)
sales = Objective(
    id="sales",
    owner="ann",
    parent="company",
    start=start,
    due=due,
    name="Win the retail segment",
    key_results=[
        Metric(
            id="new-arr",
            unit="USD",
            target=500_000,
            owners=["bob"],
            check_ins=[
                CheckIn(datetime(2026, 1, 20, tzinfo=UTC), 90_000),
                CheckIn(datetime(2026, 2, 10, tzinfo=UTC), 210_000),
            ],
        ),
        Metric(id="call-time", unit="min", start=45, target=20, current=30),
        Binary(id="pricing-page", done=True),
        Milestone(id="crm", stages_total=5, stages_done=3),
    ],
)

result = okrcore.evaluate(
    Document(as_of=datetime(2026, 2, 15, tzinfo=UTC), objectives=[company, sales])
)

for oid, o in result.objectives.items():
    print(
        f"{oid:8} progress={o.progress:.3f} expected={o.expected:.2f} "
        f"colour={o.colour} mode={o.mode} ({o.explanation.rule})"
    )
for kid, k in result.key_results.items():
    print(f"  {kid:13} current={k.current!s:7} progress={k.progress:.2f} colour={k.colour}")
for person, p in result.people.items():
    print(f"{person}: {p.progress:.3f} from {[item.id for item in p.items]}")
print("errors:", list(result.errors))
