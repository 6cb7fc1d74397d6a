"""``okrcore_recompute``."""
