"""File systems that fail on purpose, for the fault-injection tests of the jobs (issue 17).

CI runs as root, so these are real: a size-limited tmpfs fills up, a read-only bind mount
refuses writes.  Without root a read-only directory falls back to permissions and a tmpfs
test is skipped; under ``CI=true`` a missing mount is a failure, never a skip.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def _cannot(what: str, exc: BaseException) -> None:
    if IN_CI:
        pytest.fail(f"CI runs as root and must {what}: {exc}")
    pytest.skip(f"cannot {what} here: {exc}")


def mount_tmpfs(where: Path, size: int, remount: bool = False) -> None:
    """Mount (or, with ``remount``, resize) a tmpfs of ``size`` bytes on ``where``."""
    options = f"{'remount,' if remount else ''}size={size}"
    try:
        if os.geteuid() != 0:
            raise PermissionError("mounting a tmpfs needs root")
        subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)],
                       check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        _cannot("mount a size-limited tmpfs", exc)


def unmount(where: Path) -> None:
    """Unmount ``where`` (no error when nothing is mounted there)."""
    subprocess.run(["umount", str(where)], check=False, capture_output=True)


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make the directory ``path`` and everything in it read-only for the block.

    As root (permissions do not stop root) ``path`` is bind-mounted read-only onto itself;
    otherwise every directory below it gets mode 0o555 and every file 0o444, restored after.
    """
    if os.geteuid() != 0:
        dirs = [path, *(p for p in path.rglob("*") if p.is_dir())]
        files = [p for p in path.rglob("*") if p.is_file()]
        for d in dirs:
            os.chmod(d, 0o555)
        for f in files:
            os.chmod(f, 0o444)
        try:
            yield
        finally:
            for d in dirs:
                os.chmod(d, 0o755)
            for f in files:
                os.chmod(f, 0o644)
        return
    try:
        subprocess.run(["mount", "--bind", str(path), str(path)], check=True,
                       capture_output=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        _cannot("bind-mount read-only", exc)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", str(path)], check=True,
                       capture_output=True)
        yield
    finally:
        unmount(path)
