"""The conformance protocol: newline-delimited JSON over a harness process's stdin and stdout.

Version 1. The runner writes one request per line to the harness's standard input and reads
one response per line from its standard output (standard error is left to the harness, for
its own logs):

============================================  ================================================
request                                       response
============================================  ================================================
``{"cmd": "start", "protocol": 1,             ``{"type": "started", "protocol": 1, "name": N,
"suite": S}``                                 "version": V, "capabilities": [...]}``
``{"cmd": "evaluate", "seq": n,               ``{"type": "result", "seq": n, "result": R}`` or
"document": D}``                              ``{"type": "skipped", "seq": n, "reason": T}`` or
                                              ``{"type": "errored", "seq": n, "message": T}``
``{"cmd": "stop"}``                           ``{"type": "stopped"}``, then the harness exits 0
============================================  ================================================

``D`` is an interchange document, ``R`` its result document. The JSON Schema is
``okrcore/conformance/schemas/protocol-v1.schema.json``.
"""

from __future__ import annotations

import contextlib
import json
import shlex
import subprocess
import sys
from collections.abc import Mapping
from typing import IO, Any, Final

from okrcore.conformance.capabilities import check_capabilities
from okrcore.conformance.implementation import Implementation, NotSupportedError

__all__ = ["PROTOCOL_VERSION", "HarnessError", "HarnessProcess", "serve"]

PROTOCOL_VERSION: Final = 1
"""Version of the protocol this module speaks."""


class HarnessError(Exception):
    """The harness process broke the protocol, or exited.

    It is *fatal*: the runner stops instead of counting it as the failure of one example.
    """

    fatal = True


def _reply(out: IO[str], message: Mapping[str, Any]) -> None:
    out.write(json.dumps(message, allow_nan=False) + "\n")
    out.flush()


def serve(implementation: Implementation, stdin: IO[str] | None = None,
          stdout: IO[str] | None = None) -> int:
    """Run ``implementation`` as a harness: answer requests from ``stdin`` until ``stop``.

    Returns the exit status (0 after ``stop`` or the end of input, 2 on a protocol error).
    """
    source = stdin or sys.stdin
    out = stdout or sys.stdout
    for line in source:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            command = request["cmd"]
        except (ValueError, KeyError, TypeError):
            print(f"okrcore harness: not a request: {line.strip()[:200]}", file=sys.stderr)
            return 2
        if command == "start":
            _reply(out, {"type": "started", "protocol": PROTOCOL_VERSION,
                         "name": implementation.name, "version": implementation.version,
                         "capabilities": sorted(implementation.capabilities)})
        elif command == "evaluate":
            seq = request.get("seq")
            try:
                result = implementation.evaluate(request["document"])
                text = json.dumps({"type": "result", "seq": seq, "result": result},
                                  allow_nan=False)
            except NotSupportedError as exc:
                _reply(out, {"type": "skipped", "seq": seq, "reason": str(exc) or "skipped"})
                continue
            except Exception as exc:
                _reply(out, {"type": "errored", "seq": seq,
                             "message": f"{type(exc).__name__}: {exc}"})
                continue
            out.write(text + "\n")
            out.flush()
        elif command == "stop":
            _reply(out, {"type": "stopped"})
            return 0
        else:
            print(f"okrcore harness: unknown command {command!r}", file=sys.stderr)
            return 2
    return 0


class HarnessProcess:
    """A running harness, spoken to over the protocol; usable as an implementation.

    Parameters
    ----------
    command : str
        The command line that starts the harness (split like a POSIX shell would).
    timeout : float
        Seconds to wait for the handshake [s].

    Attributes
    ----------
    name, version : str
        As the harness announced them.
    capabilities : frozenset of str
        As the harness announced them.
    """

    def __init__(self, command: str, timeout: float = 60.0) -> None:
        self.command = command
        try:
            self._process = subprocess.Popen(
                shlex.split(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                text=True, encoding="utf-8", bufsize=1)
        except OSError as exc:
            raise HarnessError(f"cannot start harness {command!r}: {exc}") from exc
        self._seq = 0
        from okrcore.conformance.vectors import SUITE_VERSION

        started = self._ask({"cmd": "start", "protocol": PROTOCOL_VERSION,
                             "suite": SUITE_VERSION})
        if started.get("type") != "started":
            self.close()
            raise HarnessError(f"harness answered start with {json.dumps(started)[:200]}")
        if started.get("protocol") != PROTOCOL_VERSION:
            self.close()
            raise HarnessError(f"harness speaks protocol {started.get('protocol')}, "
                               f"the runner {PROTOCOL_VERSION}")
        self.name = str(started.get("name", "?"))
        self.version = str(started.get("version", "?"))
        try:
            self.capabilities = check_capabilities(started.get("capabilities", []))
        except ValueError as exc:
            self.close()
            raise HarnessError(f"harness capabilities: {exc}") from exc

    def _ask(self, request: Mapping[str, Any]) -> dict[str, Any]:
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(json.dumps(request, allow_nan=False) + "\n")
            stdin.flush()
        except (BrokenPipeError, OSError) as exc:
            raise HarnessError(f"harness exited (status {self._process.poll()})") from exc
        line = stdout.readline()
        if not line:
            raise HarnessError(f"harness closed its output (status {self._process.wait()})")
        try:
            answer: dict[str, Any] = json.loads(line)
        except ValueError as exc:
            raise HarnessError(f"harness wrote a line that is not JSON: {line[:200]!r}") from exc
        return answer

    def evaluate(self, document: Mapping[str, Any]) -> Mapping[str, Any]:
        """Send ``evaluate`` and return the result document.

        Raises
        ------
        NotSupportedError
            When the harness answers ``skipped``.
        RuntimeError
            When it answers ``errored`` (the message is the harness's).
        HarnessError
            When it breaks the protocol.
        """
        self._seq += 1
        answer = self._ask({"cmd": "evaluate", "seq": self._seq, "document": document})
        if answer.get("seq") != self._seq:
            raise HarnessError(f"harness answered seq {answer.get('seq')} to {self._seq}")
        kind = answer.get("type")
        if kind == "result" and isinstance(answer.get("result"), dict):
            result: dict[str, Any] = answer["result"]
            return result
        if kind == "skipped":
            raise NotSupportedError(str(answer.get("reason", "")))
        if kind == "errored":
            raise RuntimeError(f"harness error: {answer.get('message', '')}")
        raise HarnessError(f"unexpected answer {json.dumps(answer)[:200]}")

    def close(self) -> None:
        """Send ``stop`` (when still running) and wait for the process to exit."""
        if self._process.poll() is None:
            with contextlib.suppress(HarnessError):
                self._ask({"cmd": "stop"})
            for stream in (self._process.stdin, self._process.stdout):
                if stream is not None:
                    stream.close()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()

    def __enter__(self) -> HarnessProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
