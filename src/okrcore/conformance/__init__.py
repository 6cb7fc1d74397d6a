"""The vendor conformance suite: check any OKR implementation against okrcore's specification.

* :mod:`~okrcore.conformance.strategies`: public hypothesis strategies (documents, ...);
* :mod:`~okrcore.conformance.properties`: the property catalogue;
* :mod:`~okrcore.conformance.vectors`: the language-neutral JSON vectors;
* :mod:`~okrcore.conformance.protocol`: the NDJSON harness protocol;
* :mod:`~okrcore.conformance.runner` and ``okrcore conformance``: run it all and report;
* :mod:`~okrcore.conformance.plugin`: the pytest plug-in
  (``pytest --pyargs okrcore.conformance --okrcore-impl=my_pkg.okr:impl``).

Importing this package needs nothing beyond okrcore; the strategies, the properties and the
runner need the ``conformance`` extra (``pip install 'okrcore[conformance]'``).
"""

from okrcore.conformance.capabilities import CAPABILITIES, REQUIRED_CAPABILITY
from okrcore.conformance.implementation import (
    REFERENCE,
    Implementation,
    NotSupportedError,
    Reference,
    load_implementation,
)
from okrcore.conformance.protocol import PROTOCOL_VERSION
from okrcore.conformance.vectors import SUITE_VERSION, load_vectors, vectors_path

__all__ = [
    "CAPABILITIES",
    "PROTOCOL_VERSION",
    "REFERENCE",
    "REQUIRED_CAPABILITY",
    "SUITE_VERSION",
    "Implementation",
    "NotSupportedError",
    "Reference",
    "load_implementation",
    "load_vectors",
    "vectors_path",
]
