"""The layout stays honest: the catalog imports nothing from the service, the fold does no I/O."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
IO_MODULES = {
    "sqlalchemy",
    "httpx",
    "httpcore",
    "socket",
    "requests",
    "urllib",
    "psycopg",
    "sqlite3",
    "fastapi",
    "starlette",
    "asyncio",
    "os",
    "subprocess",
}


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_event_catalog_imports_nothing_from_the_service():
    for path in (ROOT / "events").rglob("*.py"):
        leaks = {name for name in imported_modules(path) if name == "app" or name.startswith("app.")}
        assert not leaks, f"{path.relative_to(ROOT)} imports {leaks}"


def test_the_catalog_and_the_fold_do_no_io():
    pure = [
        *(ROOT / "events").rglob("*.py"),
        ROOT / "app/projections/timeline.py",
        ROOT / "app/projections/incident.py",
    ]
    for path in pure:
        io = {name for name in imported_modules(path) if name.split(".")[0] in IO_MODULES}
        assert not io, f"{path.relative_to(ROOT)} imports {io}"


def test_the_fold_depends_only_on_the_catalog_and_its_own_package():
    allowed = ("events", "app.projections")
    for name in ("timeline", "incident"):
        path = ROOT / f"app/projections/{name}.py"
        project = {m for m in imported_modules(path) if m.split(".")[0] in {"app", "events"}}
        assert all(m.startswith(allowed) for m in project), project


def test_the_store_imports_nothing_built_on_it():
    above = ("app.api", "app.webhooks", "app.intake", "app.projections", "app.commands", "app.access", "app.importing")
    for path in (ROOT / "app/store").rglob("*.py"):
        source = path.read_text()
        names = imported_modules(path) | {
            node.module for node in ast.walk(ast.parse(source)) if isinstance(node, ast.ImportFrom) and node.module
        }
        leaks = {name for name in names if name.startswith(above)}
        assert not leaks, f"{path.relative_to(ROOT)} imports {leaks}"


# Where the code may look at which database it runs on, and why: everything else is written once.
BACKEND_SEAMS = {
    "app/store/backends.py": "the store's seam (append path, many-id lookup)",
    "app/webhooks/queue.py": "open_queue picks the delivery queue's implementation",
    "app/webhooks/queue_sqlite.py": "the SQLite queue",
    "app/webhooks/queue_postgres.py": "the PostgreSQL queue",
    "app/leadership.py": "who projects and who dispatches (an advisory lock per role on PostgreSQL)",
    "app/projections/index/search.py": "the projection's full-text search: FTS5 or a tsvector index",
    "app/db.py": "column types that store times per backend, and telling a URL's backend",
    "app/webhooks/tables.py": "a column type variant (SQLite's rowid alias)",
    "app/intake/tables.py": "column type variants (a sealed title or reason is text on PostgreSQL)",
    "app/projections/index/tables.py": "column type variants (SQLite's rowid alias, PostgreSQL's C collation)",
}


def looks_at_the_backend(tree: ast.AST) -> bool:
    return any(
        (isinstance(node, ast.Attribute) and node.attr in ("dialect", "get_backend_name"))
        or (isinstance(node, ast.Constant) and node.value in ("postgresql", "sqlite"))
        for node in ast.walk(tree)
    )


def test_backend_differences_live_behind_one_seam_each():
    looking = {
        str(path.relative_to(ROOT))
        for package in ("app", "events")
        for path in (ROOT / package).rglob("*.py")
        if looks_at_the_backend(ast.parse(path.read_text()))
    }
    assert looking <= set(BACKEND_SEAMS), sorted(looking - set(BACKEND_SEAMS))
