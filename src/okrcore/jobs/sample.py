"""Large sample organisations for jobs, benchmarks and demos: many copies of the demo company.

Each copy is :func:`okrcore.sample.generate_organisation` for one of a few seeds (62 key results,
18 objectives in two alignment trees, 27 people, about 550 check-ins), with every id and person
name prefixed by the copy (``c000042.``), so copies are separate companies with their own
people.  Copies are grouped into tenants; a dataset partitioned by tenant holds whole trees.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, Final

import attrs
import numpy as np

from okrcore.batch.frame import OrgFrame
from okrcore.model import Document, InvalidKeyResult, InvalidObjective
from okrcore.sample import generate_organisation

__all__ = ["DISTINCT_SEEDS", "copies_for", "sample_document", "sample_frames"]

DISTINCT_SEEDS: Final = 16
"""Copy ``c`` is drawn with seed ``seed + c % DISTINCT_SEEDS``."""


def copies_for(key_results: int) -> int:
    """Copies of the demo company that make at least ``key_results`` key results."""
    per = sum(len(o.key_results) for o in generate_organisation().objectives)
    return max(1, math.ceil(key_results / per))


def _relabel(frame: OrgFrame, prefix: str, person_offset: int, unit_map: Any) -> OrgFrame:
    def shift(codes: Any, offset: int) -> Any:
        return np.where(codes >= 0, codes + offset, codes).astype(codes.dtype)

    return attrs.evolve(
        frame,
        kr_ids=[prefix + i for i in frame.kr_ids or ()],
        obj_ids=[prefix + i for i in frame.obj_ids or ()],
        obj_parent_names=[None if p is None else prefix + p
                          for p in frame.obj_parent_names or ()],
        obj_owner=shift(frame.obj_owner, person_offset),
        kr_owner_ids=shift(frame.kr_owner_ids, person_offset),
        kr_unit=np.where(frame.kr_unit >= 0, unit_map[np.maximum(frame.kr_unit, 0)],
                         -1).astype(np.int32),
        obj_ps_unit=np.where(frame.obj_ps_unit >= 0,
                             unit_map[np.maximum(frame.obj_ps_unit, 0)], -1).astype(np.int32),
    )


def sample_frames(key_results: int = 1_000_000, tenants: int = 8, seed: int = 7
                  ) -> Iterator[tuple[str, OrgFrame]]:
    """The sample as ``(tenant, frame)`` pairs.

    Ready for :func:`okrcore.jobs.parquet.write_dataset`.

    Parameters
    ----------
    key_results : int
        At least this many key results in all (rounded up to whole copies).
    tenants : int
        Tenants ``t00`` ... (copies are dealt out in order, as evenly as possible).
    seed : int
        Base seed.
    """
    from okrcore.jobs.parquet import _concat

    copies = copies_for(key_results)
    bases = [OrgFrame.from_document(generate_organisation(seed + s))
             for s in range(min(DISTINCT_SEEDS, copies))]
    units: dict[str, int] = {}
    maps = [np.array([units.setdefault(u, len(units)) for u in b.unit_names or ()] + [-1],
                     dtype=np.int32) for b in bases]
    tenants = max(1, min(tenants, copies))
    per = [copies // tenants + (1 if t < copies % tenants else 0) for t in range(tenants)]
    first = 0
    for t, count in enumerate(per):
        frames: list[OrgFrame] = []
        names: list[str] = []
        for c in range(first, first + count):
            base = bases[c % len(bases)]
            prefix = f"c{c:06d}."
            frames.append(_relabel(base, prefix, len(names), maps[c % len(bases)]))
            names.extend(prefix + p for p in base.person_names or ())
        first += count
        frames = [attrs.evolve(f, person_names=names, unit_names=list(units)) for f in frames]
        kr_off = np.concatenate([[0], np.cumsum([f.n_kr for f in frames])]).astype(np.int64)
        obj_off = np.concatenate([[0], np.cumsum([f.n_obj for f in frames])]).astype(np.int64)
        yield f"t{t:02d}", attrs.evolve(_concat(frames, kr_off, obj_off), validated=True)


def sample_document(key_results: int = 1_000_000, seed: int = 7) -> Document:
    """The same sample as one interchange :class:`Document` (for databases and workbooks).

    Copies share the immutable key result and check-in objects of their seed; only ids,
    owners and parents are rewritten.
    """
    copies = copies_for(key_results)
    bases = [generate_organisation(seed + s) for s in range(min(DISTINCT_SEEDS, copies))]
    objectives = []
    for c in range(copies):
        prefix = f"c{c:06d}."
        for obj in bases[c % len(bases)].objectives:
            assert not isinstance(obj, InvalidObjective)
            krs = []
            for kr in obj.key_results:
                assert not isinstance(kr, InvalidKeyResult)
                krs.append(attrs.evolve(kr, id=prefix + kr.id,
                                        owners=tuple(prefix + o for o in kr.owners)))
            objectives.append(attrs.evolve(
                obj, id=prefix + obj.id, key_results=tuple(krs),
                owner=None if obj.owner is None else prefix + obj.owner,
                parent=None if obj.parent is None else prefix + obj.parent))
    return Document(as_of=bases[0].as_of, objectives=tuple(objectives), policy=bases[0].policy)
