"""The conformance docs: the catalogue page is generated from the code and up to date."""

from __future__ import annotations

from pathlib import Path

from okrcore.conformance import CAPABILITIES
from okrcore.conformance.capabilities import SECTIONS
from okrcore.conformance.properties import PROPERTIES, catalogue_rst
from okrcore.conformance.vectors import load_vectors, vector_files

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_property_catalogue_page_is_generated_from_the_code() -> None:
    # Regenerate with: python -c "from okrcore.conformance.properties import catalogue_rst;
    # open('docs/conformance-properties.rst', 'w').write(catalogue_rst())"
    assert (DOCS / "conformance-properties.rst").read_text() == catalogue_rst()


def test_guide_lists_every_capability() -> None:
    guide = " ".join((DOCS / "conformance.rst").read_text().split())
    for name, promise in CAPABILITIES.items():
        assert f"* - ``{name}`` - {promise.replace('include_children', '``include_children``')}" \
            in guide, name


def test_guide_states_the_number_of_vectors() -> None:
    guide = (DOCS / "conformance.rst").read_text()
    assert f"**{len(load_vectors())} JSON vectors** in twelve files" in guide
    assert len(vector_files()) == 12


def test_every_cited_section_label_exists_in_the_spec() -> None:
    spec = (DOCS / "spec.rst").read_text()
    for number, (label, _title) in SECTIONS.items():
        assert f".. _{label}:" in spec, number
    assert {s for p in PROPERTIES for s in p.sections} <= set(SECTIONS)


def test_every_capability_group_has_a_property_and_names_are_unique() -> None:
    assert {p.group for p in PROPERTIES} == set(CAPABILITIES)
    assert len({p.name for p in PROPERTIES}) == len(PROPERTIES)
