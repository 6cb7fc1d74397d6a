"""Management commands of okrcore_django."""
