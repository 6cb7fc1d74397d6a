"""Settings of the example Django project of docs/adapters-django.rst (SQLite in a temp dir)."""

import os
import tempfile

SECRET_KEY = "example-only"
USE_TZ = True  # the models' instants are timezone-aware DateTimeFields
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["okrcore_django", "goals"]
DATABASES = {"default": {
    "ENGINE": "django.db.backends.sqlite3",
    "NAME": os.environ.get("OKR_DB", os.path.join(tempfile.gettempdir(), "okrcore-goals.db")),
}}

# role -> "app_label.Model": plain strings, so the settings import no models
OKRCORE_MODELS = {
    "person": "goals.Person",
    "objective": "goals.Goal",
    "key_result": "goals.Measure",
    "kr_owner": "goals.MeasureOwner",
    "checkpoint": "goals.Step",
    "check_in": "goals.Update",
    "snapshot": "goals.Snapshot",
    "kr_result": "goals.MeasureResult",
    "objective_result": "goals.GoalResult",
    "person_result": "goals.PersonResult",
    "change": "goals.Change",  # optional: the change log of okrcore_recompute --incremental
}
