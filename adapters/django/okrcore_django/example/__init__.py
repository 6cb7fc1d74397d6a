"""A concrete example app of the reference schema (label ``okrcore_example``), with migrations."""
