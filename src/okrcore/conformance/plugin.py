"""The pytest plug-in of the conformance suite; inert unless ``--okrcore-impl`` is given.

Installed with okrcore (a ``pytest11`` entry point), it only adds its options to every pytest
session. The suite itself is the test module ``okrcore.conformance.test_conformance``::

    pytest --pyargs okrcore.conformance --okrcore-impl=my_pkg.okr:impl

Options: ``--okrcore-max-examples N``, ``--okrcore-derandomize``,
``--okrcore-disable CAP[,CAP...]``, ``--okrcore-skip-file FILE`` and
``--okrcore-xfail-file FILE`` (one id or shell-style pattern per line, ``#`` starts a comment
and the rest of the line is the reason; a pattern that matches no test gives a warning).
"""

from __future__ import annotations

import fnmatch
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from okrcore.conformance.implementation import Implementation

__all__ = [
    "ConformanceWarning",
    "okrcore_capabilities",
    "okrcore_implementation",
    "okrcore_settings",
    "pytest_addoption",
    "pytest_collection_modifyitems",
    "pytest_configure",
    "read_id_file",
]

_SUITE_MODULE = "okrcore.conformance.test_conformance"
_IMPLEMENTATION = pytest.StashKey["Implementation"]()
_DISABLED = pytest.StashKey[frozenset[str]]()


class ConformanceWarning(pytest.PytestWarning):
    """A skip or xfail file names an id that matches no test of the suite."""


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the suite's options (nothing else happens without ``--okrcore-impl``)."""
    group = parser.getgroup("okrcore-conformance", "okrcore conformance suite")
    group.addoption("--okrcore-impl", metavar="MODULE:ATTR", default=None,
                    help="the implementation under test (runs okrcore.conformance tests)")
    group.addoption("--okrcore-max-examples", type=int, default=50, metavar="N",
                    help="hypothesis examples per property (default 50)")
    group.addoption("--okrcore-derandomize", action="store_true", default=False,
                    help="draw the same examples on every run")
    group.addoption("--okrcore-disable", action="append", default=[], metavar="CAP[,CAP]",
                    help="capabilities to leave out although the implementation declares them")
    group.addoption("--okrcore-skip-file", metavar="FILE", default=None,
                    help="ids (or patterns) of suite tests to skip, one per line")
    group.addoption("--okrcore-xfail-file", metavar="FILE", default=None,
                    help="ids (or patterns) of suite tests expected to fail, one per line")


def pytest_configure(config: pytest.Config) -> None:
    """Load ``--okrcore-impl`` and check ``--okrcore-disable`` once, before any test runs.

    A bad value is one usage error (pytest exits with status 4), not one error per test.
    """
    spec = config.getoption("okrcore_impl", None)
    if spec is None:
        return
    from okrcore.conformance.capabilities import CAPABILITIES, REQUIRED_CAPABILITY
    from okrcore.conformance.implementation import load_implementation

    disabled = frozenset(part.strip() for value in config.getoption("okrcore_disable")
                         for part in value.split(",") if part.strip())
    unknown = sorted(disabled - set(CAPABILITIES))
    if unknown:
        raise pytest.UsageError(f"--okrcore-disable: unknown capability {unknown[0]!r}")
    if REQUIRED_CAPABILITY in disabled:
        raise pytest.UsageError(f"--okrcore-disable: {REQUIRED_CAPABILITY!r} is required")
    try:
        config.stash[_IMPLEMENTATION] = load_implementation(spec)
    except (ValueError, ImportError) as exc:
        raise pytest.UsageError(f"--okrcore-impl={spec}: {exc}") from None
    config.stash[_DISABLED] = disabled


def read_id_file(path: str) -> list[tuple[str, str]]:
    """Read a skip / xfail file: ``(pattern, reason)`` per non-blank, non-comment line."""
    entries = []
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        pattern, _hash, reason = line.partition("#")
        pattern = pattern.strip()
        if pattern:
            entries.append((pattern, reason.strip() or f"{path}:{number}"))
    return entries


def _suite_id(item: pytest.Item) -> str | None:
    module = getattr(item, "module", None)
    callspec = getattr(item, "callspec", None)
    if module is None or module.__name__ != _SUITE_MODULE or callspec is None:
        return None
    ident: str = callspec.id
    return ident


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Apply the skip and xfail files to the suite's tests; warn about unmatched ids."""
    if config.getoption("okrcore_impl") is None:
        return
    ids = {item: _suite_id(item) for item in items}
    for option, mark in (("okrcore_skip_file", "skip"), ("okrcore_xfail_file", "xfail")):
        path = config.getoption(option)
        if not path:
            continue
        for pattern, reason in read_id_file(path):
            matched = [item for item, ident in ids.items()
                       if ident is not None and fnmatch.fnmatchcase(ident, pattern)]
            if not matched:
                warnings.warn(ConformanceWarning(
                    f"{path}: {pattern!r} matches no test of the okrcore conformance suite"),
                    stacklevel=1)
            for item in matched:
                marker = (pytest.mark.skip(reason=reason) if mark == "skip"
                          else pytest.mark.xfail(reason=reason, strict=False))
                item.add_marker(marker)


@pytest.fixture(scope="session")
def okrcore_implementation(request: pytest.FixtureRequest) -> Iterator[Implementation]:
    """The implementation named by ``--okrcore-impl`` (the suite is skipped without it)."""
    if request.config.getoption("okrcore_impl") is None:
        pytest.skip("the okrcore conformance suite needs --okrcore-impl=MODULE:ATTR")
    yield request.config.stash[_IMPLEMENTATION]  # loaded once by pytest_configure


@pytest.fixture(scope="session")
def okrcore_capabilities(request: pytest.FixtureRequest,
                         okrcore_implementation: Implementation) -> frozenset[str]:
    """The declared capabilities minus those of ``--okrcore-disable`` (checked at configure)."""
    disabled = request.config.stash.get(_DISABLED, frozenset())
    return frozenset(okrcore_implementation.capabilities) - disabled


@pytest.fixture(scope="session")
def okrcore_settings(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Hypothesis settings of the properties: ``max_examples`` and ``derandomize``."""
    return {"max_examples": request.config.getoption("okrcore_max_examples"),
            "derandomize": request.config.getoption("okrcore_derandomize")}
