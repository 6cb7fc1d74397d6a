"""Maintainer's command: rewrite the vector files from their cases with the reference.

``python -m okrcore.conformance._regenerate``; review the diff before committing it, because
every change of an expected result is a change of behaviour.
"""

from okrcore.conformance.vectors import write_all

if __name__ == "__main__":
    for written in write_all():
        print(written)
