"""The webhook package keeps its three parts apart: a pure retry policy, a queue per backend behind
one interface, a worker that talks only to the queue and the sender."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.unit.test_architecture import IO_MODULES, ROOT, imported_modules

WEBHOOKS = ROOT / "app/webhooks"
QUEUES = [WEBHOOKS / "queue.py", WEBHOOKS / "queue_sqlite.py", WEBHOOKS / "queue_postgres.py"]


def imported_names(path: Path) -> set[str]:
    """Every `module.name` a module imports with `from module import name`."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_the_retry_policy_does_no_io_and_stands_alone():
    for name in ("backoff", "retry"):
        modules = imported_modules(WEBHOOKS / f"{name}.py")
        io = {m for m in modules if m.split(".")[0] in IO_MODULES | {"random", "time"}}
        assert not io, f"app/webhooks/{name}.py imports {io}"
        project = {m for m in modules if m.split(".")[0] in {"app", "events"}}
        assert project <= {"app.webhooks.backoff"}, project


def test_the_worker_talks_only_to_the_queue_the_sender_and_the_policy():
    modules = imported_modules(WEBHOOKS / "worker.py")
    assert not {m for m in modules if m.split(".")[0] in {"sqlalchemy", "httpx", "httpcore", "psycopg", "sqlite3"}}
    project = {m for m in modules if m.split(".")[0] in {"app", "events"}}
    assert project <= {
        "app.db",
        "app.webhooks.model",
        "app.webhooks.queue",
        "app.webhooks.retry",
        "app.webhooks.sender",
    }
    # The clock, and nothing else, from app.db.
    assert {n for n in imported_names(WEBHOOKS / "worker.py") if n.startswith("app.db.")} == {"app.db.utcnow"}


def test_the_queue_writes_decisions_and_never_makes_them():
    for path in QUEUES:
        names = imported_names(path)
        made_here = {n for n in names if n.startswith("app.webhooks.backoff") or n == "app.webhooks.retry.decide"}
        assert not made_here, f"{path.name} imports {made_here}"


def test_the_delivery_path_reads_the_log_through_the_event_store():
    for path in [*QUEUES, *(WEBHOOKS / f"{name}.py" for name in ("worker", "sender", "dispatcher", "model"))]:
        leaks = {m for m in imported_modules(path) if m.startswith("app.store.") and m != "app.store.store"}
        assert not leaks, f"{path.name} imports {leaks}"


def branches_on_the_backend(tree: ast.AST) -> bool:
    return any(
        (isinstance(node, ast.Attribute) and node.attr == "dialect")
        or (isinstance(node, ast.Constant) and node.value in ("postgresql", "postgres", "sqlite"))
        for node in ast.walk(tree)
    )


def test_backend_differences_live_in_the_backends_modules():
    for name in ("worker", "sender", "dispatcher", "retry", "backoff", "model"):
        assert not branches_on_the_backend(ast.parse((WEBHOOKS / f"{name}.py").read_text())), name
    tree = ast.parse((WEBHOOKS / "queue.py").read_text())
    branching = [
        node.name
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and branches_on_the_backend(node)
    ]
    assert branching == ["open_queue"], "only open_queue looks at the backend"
