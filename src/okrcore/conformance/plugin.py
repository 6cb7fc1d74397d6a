"""pytest plug-in of the conformance suite (work in progress)."""
