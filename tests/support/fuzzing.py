"""Schemathesis against a live `timeline serve`: run its CLI, read its reports, find the server's exceptions.

Used by tests/e2e/test_fuzz_openapi.py. A run is `schemathesis run <url>/openapi.json` as a
subprocess, with a schemathesis.toml written for it and the hooks in tests/support/schemathesis_hooks.py;
its NDJSON and JSON reports give the figures and every failing case, and the server's own log
(stderr of `timeline serve`) gives the exception behind each 500.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.live import REPO, free_port, wait_until_healthy

HOOKS = Path(__file__).resolve().with_name("schemathesis_hooks.py")
# No 5xx, and every response as the document says: a documented status, a documented content
# type, a body that fits the documented schema and the documented headers.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)


# -- the server -------------------------------------------------------------------------------


class LoggedServer:
    """`timeline serve` with its stderr (tracebacks) and stdout (access log) kept in files."""

    def __init__(self, env: dict[str, str], directory: Path):
        self.env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.error_log = directory / "server-stderr.log"
        self.access_log = directory / "server-access.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> "LoggedServer":
        with open(self.error_log, "wb") as stderr, open(self.access_log, "wb") as stdout:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve", "--port", str(self.port)],
                env=self.env,
                cwd=REPO,
                stdout=stdout,
                stderr=stderr,
            )
        wait_until_healthy(self.url, process=self.process)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def exceptions(self) -> list["ServerException"]:
        return server_exceptions(self.error_log.read_text(errors="replace"))


# -- the server's exceptions ------------------------------------------------------------------

_HEADER = re.compile(
    r"^(?:unexpected error on (?P<method>\S+) (?P<path>.*)|(?:ERROR:\s+)?Exception in ASGI application)$"
)
_LOG_RECORD = re.compile(r"^(?:INFO|WARNING|ERROR|DEBUG|CRITICAL):|^unexpected error on ")
_FRAME = re.compile(r'^\s+File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<function>.+)$')


@dataclass(frozen=True)
class ServerException:
    request: str  # "POST /v1/subscriptions", or "" when the log does not say
    exception: str  # "OverflowError: Python int too large to convert to SQLite INTEGER"
    app_frame: str  # the innermost frame in app/ or events/: "app/webhooks/subscriptions.py:174 in create"
    traceback: str

    @property
    def exception_type(self) -> str:
        return self.exception.split(":", 1)[0]

    @property
    def root_cause(self) -> tuple[str, str]:
        return self.exception_type, self.app_frame


def server_exceptions(log: str) -> list[ServerException]:
    """Every traceback in a `timeline serve` stderr log, with the request it was logged for."""
    lines = log.splitlines()
    found = []
    index = 0
    while index < len(lines):
        header = _HEADER.match(lines[index])
        if not header:
            index += 1
            continue
        end = index + 1
        while end < len(lines) and not _LOG_RECORD.match(lines[end]):
            end += 1
        parsed = _parse_traceback(header, lines[index + 1 : end])
        # The app's handler logs a 500 ("unexpected error on ...") and Starlette then re-raises the
        # exception for uvicorn, which logs it again ("Exception in ASGI application"): one failure.
        repeated = (
            found
            and not parsed.request
            and found[-1].root_cause == parsed.root_cause
            and found[-1].exception == parsed.exception
        )
        if not repeated:
            found.append(parsed)
        index = end
    return found


def _parse_traceback(header: re.Match, block: list[str]) -> ServerException:
    frames = [(n, _FRAME.match(line)) for n, line in enumerate(block)]
    frames = [(n, match) for n, match in frames if match]
    exception = "(no exception line found)"
    if frames:
        last = frames[-1][0]
        for line in block[last + 1 :]:
            if line.strip() and not line.startswith((" ", "\t")):
                exception = line.strip()[:400]
                break
    app_frame = ""
    for _, match in reversed(frames):
        path = Path(match["file"])
        try:
            relative = path.resolve().relative_to(REPO)
        except ValueError:
            continue
        if relative.parts and relative.parts[0] in ("app", "events"):
            app_frame = f"{relative}:{match['line']} in {match['function']}"
            break
    request = f"{header['method']} {header['path']}" if header["method"] else ""
    return ServerException(request, exception, app_frame, "\n".join(block))


# -- a schemathesis run -----------------------------------------------------------------------


def config_toml(cases: dict[str, int], *, request_timeout: float = 10) -> str:
    """A schemathesis.toml: `cases["default"]` cases per operation in the fuzzing phase, and the
    other keys' counts for the operations so named ("POST /v1/incidents")."""
    lines = [
        "workers = 1",
        f"request-timeout = {request_timeout}",
        "# GET /v1/incidents/{id}/stream answers a found incident with a stream that never ends: its",
        "# first message (`ready`) is enough, so schemathesis stops reading there, not at the timeout.",
        "max-stream-events = 1",
        "",
        "[cache]",
        "enabled = false",
        "",
        "[generation]",
        f"max-examples = {cases['default']}",
        'database = "none"',
    ]
    for name, count in cases.items():
        if name != "default":
            # Filters in one [[operations]] entry are alternatives, so the name (method and path) alone.
            lines += ["", "[[operations]]", f"include-name = {json.dumps(name)}", f"generation.max-examples = {count}"]
    return "\n".join(lines) + "\n"


@dataclass
class CaseFailure:
    run: str
    phase: str
    operation: str  # the operation's label, or "Stateful tests"
    method: str
    path: str  # the path as requested, parameters filled in
    check: str
    title: str
    status_code: int | None
    response: str
    curl: str

    def describe(self) -> str:
        return (
            f"[{self.run}/{self.phase}] {self.method} {self.path[:200]} -> {self.status_code} ({self.check}: {self.title})\n"
            f"    {self.curl.strip()}\n"
            f"    response: {self.response[:300]}"
        )


@dataclass
class RunResult:
    name: str
    command: list[str]
    exit_code: int
    seconds: float
    log: Path
    report: dict
    failures: list[CaseFailure] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)

    @property
    def operations_tested(self) -> int:
        return self.report.get("operations", {}).get("tested", 0)

    @property
    def operations_selected(self) -> int:
        return self.report.get("operations", {}).get("selected", 0)

    @property
    def cases(self) -> int:
        return self.report.get("test_cases", {}).get("generated", 0)

    @property
    def unique_failures(self) -> int:
        return self.report.get("test_cases", {}).get("unique_failures", len(self.failures))

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status is not None and status >= 500)

    def figures(self) -> str:
        accepted = sum(count for status, count in self.statuses.items() if status is not None and status < 300)
        return (
            f"{self.name}: {self.operations_tested}/{self.operations_selected} operations, {self.cases} cases "
            f"({accepted} answered 2xx, {self.server_errors} 5xx), {self.unique_failures} unique failures, "
            f"{len(self.errors)} errors, exit {self.exit_code}, {self.seconds:.0f} s"
        )


def run_schemathesis(
    url: str,
    *,
    name: str,
    directory: Path,
    context: dict,
    cases: dict[str, int],
    seed: int,
    headers: tuple[str, ...] = (),
    phases: tuple[str, ...] = ("examples", "coverage", "fuzzing", "stateful"),
    extra: tuple[str, ...] = (),
    timeout: float,
) -> RunResult:
    """`schemathesis run` against `url` with the CHECKS above; its reports read back."""
    directory.mkdir(parents=True, exist_ok=True)
    context_path = directory / f"{name}-context.json"
    context_path.write_text(json.dumps(context, indent=2))
    config = directory / f"{name}-schemathesis.toml"
    config.write_text(config_toml(cases))
    ndjson, report_json = directory / f"{name}-events.ndjson", directory / f"{name}-report.json"
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "run",
        f"{url}/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--seed",
        str(seed),
        "--phases",
        ",".join(phases),
        "--report",
        "ndjson,json,junit",
        "--report-dir",
        str(directory),
        "--report-ndjson-path",
        str(ndjson),
        "--report-json-path",
        str(report_json),
        "--report-junit-path",
        str(directory / f"{name}-junit.xml"),
        # The sharpened schemas exclude the known values from their other branch (`not`), which
        # hypothesis does by filtering: a filtered-out share is expected there, not a problem.
        "--suppress-health-check",
        "filter_too_much",
        "--no-color",
        *extra,
    ]
    for header in headers:
        command += ["-H", header]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": str(HOOKS),
        "TIMELINE_FUZZ_CONTEXT": str(context_path),
        "COLUMNS": "120",
        "NO_COLOR": "1",
    }
    log = directory / f"{name}-schemathesis.log"
    started = time.monotonic()
    with open(log, "wb") as output:
        # The working directory takes the .hypothesis directory that schemathesis leaves behind.
        try:
            completed = subprocess.run(
                command, cwd=directory, env=env, stdout=output, stderr=subprocess.STDOUT, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            raise AssertionError(f"schemathesis ({name}) did not finish within {timeout:.0f} s; see {log}") from None
    seconds = time.monotonic() - started
    shown = [part if not part.startswith("Authorization:") else "Authorization: [key]" for part in command]
    report = json.loads(report_json.read_text()) if report_json.exists() else {}
    result = RunResult(name, shown, completed.returncode, seconds, log, report)
    if ndjson.exists():
        _read_events(ndjson, result)
    for error in report.get("errors", []):
        result.errors.append(json.dumps(error)[:600])
    if not report:
        result.errors.append(f"no JSON report: schemathesis exited with {completed.returncode}; see {log}")
    return result


def _read_events(path: Path, result: RunResult) -> None:
    for line in path.read_text().splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        finished = event.get("ScenarioFinished")
        if finished:
            _read_scenario(finished, result)
        for name in ("NonFatalError", "FatalError"):
            if name in event:
                info = event[name]
                label = info.get("label") or info.get("info", {}).get("title") or ""
                result.errors.append(f"{name} {label}: {json.dumps(info.get('info', info))[:600]}")


def _read_scenario(finished: dict, result: RunResult) -> None:
    recorder = finished.get("recorder") or {}
    cases = recorder.get("cases") or {}
    interactions = recorder.get("interactions") or {}
    for case_id, interaction in interactions.items():
        response = (interaction or {}).get("response") or {}
        result.statuses[response.get("status_code")] += 1
    for case_id, checks in (recorder.get("checks") or {}).items():
        for check in checks:
            if check.get("status") != "failure":
                continue
            info = check.get("failure_info") or {}
            failure = info.get("failure") or {}
            case = (cases.get(case_id) or {}).get("value") or {}
            interaction = interactions.get(case_id) or {}
            request = interaction.get("request") or {}
            response = interaction.get("response") or {}
            uri = request.get("uri", "")
            path = re.sub(r"^https?://[^/]+", "", uri) or case.get("path", "")
            result.failures.append(
                CaseFailure(
                    run=result.name,
                    phase=finished.get("phase", ""),
                    operation=recorder.get("label", ""),
                    method=case.get("method", request.get("method", "")),
                    path=path,
                    check=check.get("name", ""),
                    title=failure.get("title", ""),
                    status_code=response.get("status_code"),
                    response=_text(response.get("content")),
                    curl=info.get("code_sample") or _curl(request),
                )
            )


def _curl(request: dict) -> str:
    """A curl command for a recorded request (credentials stay as schemathesis masked them)."""
    parts = ["curl", "-X", request.get("method", "GET")]
    for name, values in (request.get("headers") or {}).items():
        for value in values if isinstance(values, list) else [values]:
            parts += ["-H", f"{name}: {value}"]
    body = request.get("body")
    if body is not None:
        parts += ["--data-binary", _text(body)]
    parts.append(request.get("uri", ""))
    return shlex.join(parts)


def _text(content) -> str:
    if isinstance(content, dict) and "$base64" in content:
        return base64.b64decode(content["$base64"]).decode("utf-8", errors="replace")
    return "" if content is None else str(content)
