"""The README as a script: its ```sh blocks split into commands, and terminals to type them into.

A block is a list of commands, each with the `# -> ...` lines that follow it (what the README
promises it prints). Commands are split where bash itself says the text so far is complete
(`bash -n`), so a command may span lines by a trailing backslash or an open quote, as written.
A block whose first line is `# in another terminal` is typed into a terminal of its own, which
keeps running (a receiver, say) while the next blocks go on in the first one.

A `Terminal` is one bash process the test types commands into, as a reader types into a
terminal: variables set by one command are there for the next. It runs with `set -euo pipefail`,
and with `curl` wrapped to `--fail-with-body --show-error`, so a failing command, an unset
variable or an HTTP error answer ends it, and the test reports the command and what it printed.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ANOTHER_TERMINAL = re.compile(r"#\s*in (?:another|a second|a third) terminal\b", re.IGNORECASE)
PROMISE = "# ->"
PRELUDE = """set -euo pipefail
curl() { command curl --fail-with-body --show-error "$@"; }
"""


@dataclass
class Command:
    text: str
    line: int  # in README.md, 1-based
    promises: list[str] = field(default_factory=list)  # the `# -> ...` lines after it, without "# ->"

    @property
    def first_line(self) -> str:
        return self.text.splitlines()[0]


@dataclass
class Block:
    heading: str  # the section it is in
    line: int  # of its opening fence
    commands: list[Command]
    another_terminal: bool


def sh_blocks(readme: str) -> list[Block]:
    """Every ```sh block of a Markdown text, in order, split into commands."""
    blocks: list[Block] = []
    heading = ""
    fence: str | None = None  # the open fence's info string, while inside one
    indent = 0
    body: list[str] = []
    start = 0
    for number, line in enumerate(readme.splitlines(), start=1):
        stripped = line.strip()
        if fence is None:
            if stripped.startswith("```"):
                fence, indent, body, start = stripped[3:].strip(), len(line) - len(line.lstrip()), [], number
            elif line.startswith("#"):
                heading = line.lstrip("#").strip()
            continue
        if stripped == "```":
            if fence == "sh":
                text = "\n".join(body)
                blocks.append(
                    Block(heading, start, split_commands(text, start + 1), bool(ANOTHER_TERMINAL.match(text.lstrip())))
                )
            fence = None
            continue
        body.append(line[indent:] if line[:indent].strip() == "" else line)
    if fence is not None:
        raise ValueError(f"README.md: the code block opened on line {start} is never closed")
    return blocks


def split_commands(text: str, first_line: int) -> list[Command]:
    commands: list[Command] = []
    pending: list[str] = []
    pending_line = 0
    for offset, line in enumerate(text.splitlines()):
        if not pending:
            stripped = line.strip()
            if not stripped:
                continue
            if stripped.startswith(PROMISE):
                if not commands:
                    raise ValueError(f"README.md line {first_line + offset}: a promise with no command before it")
                commands[-1].promises.append(stripped[len(PROMISE) :].strip())
                continue
            if stripped.startswith("#"):
                continue  # a remark of the reader's guide, not a command
            pending_line = first_line + offset
        pending.append(line)
        so_far = "\n".join(pending)
        if not line.endswith("\\") and _complete(so_far):
            commands.append(Command(so_far, pending_line))
            pending = []
    if pending:
        raise ValueError(f"README.md line {pending_line}: this command never ends:\n" + "\n".join(pending))
    return commands


def _complete(text: str) -> bool:
    """Whether bash reads `text` as whole commands (no open quote, parenthesis or compound)."""
    checked = subprocess.run(["bash", "-n"], input=text, capture_output=True, text=True, timeout=10)
    if checked.returncode == 0:
        return True
    if "unexpected end of file" in checked.stderr or "looking for matching" in checked.stderr:
        return False
    raise ValueError(f"bash cannot read this README command: {checked.stderr.strip()}\n{text}")


class CommandFailed(AssertionError):
    pass


class Terminal:
    """One bash the test types into; what it prints (standard output and error) is collected."""

    def __init__(self, name: str, env: dict[str, str], cwd: Path):
        self.name = name
        self.process = subprocess.Popen(
            ["bash", "--noprofile", "--norc"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        self._lines: list[str] = []
        self._ended = False
        self._condition = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._send(PRELUDE)

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in iter(self.process.stdout.readline, b""):
            with self._condition:
                self._lines.append(raw.decode("utf-8", errors="replace"))
                self._condition.notify_all()
        with self._condition:
            self._ended = True
            self._condition.notify_all()

    def _send(self, text: str) -> None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(text.encode("utf-8"))
            self.process.stdin.flush()
        except BrokenPipeError:
            pass  # the shell has ended; the wait that follows reports it

    def output(self) -> str:
        with self._condition:
            return "".join(self._lines)

    def run(self, command: str, timeout: float = 60.0) -> str:
        """Type `command`, wait until it is done, and return what it printed."""
        marker = f"@@readme-done-{uuid.uuid4().hex}@@\n"
        with self._condition:
            start = len(self._lines)
        # A brace group runs in this shell (its assignments stay); its stdin is not the script.
        self._send(f"{{\n{command}\n}} </dev/null\nprintf '\\n%s\\n' '{marker.strip()}'\n")
        deadline = time.monotonic() + timeout
        with self._condition:
            while marker not in self._lines[start:]:
                if self._ended:
                    self.process.wait(timeout=10)
                    raise CommandFailed(
                        f"the command failed (the shell exited with {self.process.returncode}):\n{command}\n"
                        f"--- it printed:\n{''.join(self._lines[start:])}"
                    )
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CommandFailed(
                        f"the command took over {timeout:g} s:\n{command}\n--- it printed:\n"
                        + "".join(self._lines[start:])
                    )
                self._condition.wait(min(left, 0.1))
            printed = "".join(self._lines[start : self._lines.index(marker, start)])
        return printed[:-1] if printed.endswith("\n") else printed  # the newline before the marker

    def variable(self, name: str) -> str:
        return self.run(f'printf %s "${name}"')

    def start(self, command: str) -> None:
        """Type `command` and do not wait: it goes on running (wait_for what it prints)."""
        self._send(f"{{\n{command}\n}} </dev/null\n")

    def wait_for(self, condition: Callable[[str], bool], what: str, timeout: float = 30.0) -> str:
        """Wait until `condition(everything printed so far)` holds; fail after `timeout`."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while not condition("".join(self._lines)):
                if self._ended:
                    raise CommandFailed(f"{self.name} ended before {what}; it printed:\n{''.join(self._lines)}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise CommandFailed(
                        f"timed out after {timeout:g} s waiting for {what}; {self.name} printed:\n"
                        + "".join(self._lines)
                    )
                self._condition.wait(min(left, 0.1))
            return "".join(self._lines)

    def close(self) -> None:
        """End the shell and everything started from it (its own process group)."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        else:  # the shell is gone; a job it left running is still in its group
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        self._reader.join(timeout=10)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                try:
                    stream.close()
                except BrokenPipeError:
                    pass
