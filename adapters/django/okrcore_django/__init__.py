"""okrcore on Django (to come)."""
