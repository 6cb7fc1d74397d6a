"""``manage.py okrcore_recompute``: recompute OKR progress and store the results."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from okrcore.errors import OkrValueError
from okrcore.interchange import parse_instant
from okrcore.policy import Policy
from okrcore_django import job

__all__ = ["Command"]

_CELLS = 30


class _Bar:
    """A plain text progress bar on standard error (one line per phase)."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self.phase = ""

    def __call__(self, phase: str, done: int, total: int) -> None:
        filled = _CELLS * done // max(total, 1)
        self.stream.write(f"\r{phase:<8} [{'#' * filled}{'.' * (_CELLS - filled)}] "
                          f"{done}/{total}", ending="")
        if done >= total:
            self.stream.write("")
        self.stream.flush()


class Command(BaseCommand):
    """Recompute the stored organisation with okrcore and store the results."""

    help = ("Recompute OKR progress of the stored organisation with okrcore (full, or only "
            "what changed with --incremental) and store the results; prints the report as JSON.")

    def add_arguments(self, parser: CommandParser) -> None:
        """Options: --incremental, --as-of, --preset, --database, --no-progress."""
        parser.add_argument("--incremental", action="store_true",
                            help="recompute only what changed since the last snapshot (what "
                            "the change log names, or key results of another version)")
        parser.add_argument("--as-of", default=None,
                            help="instant to compute for, ISO 8601 (default now; with "
                            "--incremental the latest snapshot's)")
        parser.add_argument("--preset", default=None, help="policy preset (default betterworks)")
        parser.add_argument("--database", default="default", help="database alias")
        parser.add_argument("--no-progress", action="store_true",
                            help="no progress bar on standard error")

    def handle(self, *args: Any, **options: Any) -> None:
        """Run the job and print its report."""
        try:
            as_of = (None if options["as_of"] is None
                     else parse_instant(options["as_of"], "--as-of"))
            policy = Policy.from_preset(options["preset"]) if options["preset"] else None
        except (OkrValueError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        from okrcore_sqlalchemy import KeyTypeError, SourceError, StoreError

        try:
            report = job.recompute(
                options["database"], as_of=as_of, policy=policy,
                incremental=options["incremental"],
                progress=None if options["no_progress"] else _Bar(self.stderr))
        except (SourceError, StoreError, KeyTypeError) as exc:  # one line, no traceback
            raise CommandError(str(exc)) from exc
        self.stdout.write(json.dumps(report.to_json(), indent=2))
