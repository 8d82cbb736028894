"""`python -m benchmarks append --quick`, `... timeline --quick`, `... assertions --quick` and
`... proofs --quick` run end to end and print every row (no timing is judged)."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WORKLOADS = ("single", "batch100", "bulk1000")
IMPLEMENTATIONS = ("ours", "ours: the tree integrating", "eventsourcing", "floor (raw driver)")
SINGLE_ONLY = "raw driver, the store's writes"  # where a single append's time goes


def run_quick(*extra: str, section: str = "append") -> str:
    """`python -m benchmarks SECTION --quick ...`: its output, after checking it exited cleanly."""
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks", section, "--quick", *extra],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def table_rows(output: str) -> dict[tuple[str, str, str], list[str]]:
    """(backend, workload, implementation) -> the row's cells, from the Markdown table."""
    rows = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 7 and cells[0] in ("sqlite", "postgres"):
            workload = cells[1].split(" ")[0]
            rows[(cells[0], workload, cells[2])] = cells
    return rows


def expected_rows(backends: tuple[str, ...]) -> set[tuple[str, str, str]]:
    expected = {(b, w, i) for b in backends for w in WORKLOADS for i in IMPLEMENTATIONS}
    expected |= {(b, "single", SINGLE_ONLY) for b in backends}
    if _imports("app.importing"):  # the import-path row is printed whenever that module imports
        expected |= {(b, "bulk1000", "ours: import_batches") for b in backends}
    return expected


def _imports(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None and bool(importlib.import_module(module))
    except ImportError:
        return False


def check(output: str, backends: tuple[str, ...]) -> None:
    rows = table_rows(output)
    assert set(rows) == expected_rows(backends), output
    for key, cells in rows.items():
        assert re.fullmatch(r"[\d,]+", cells[3]) and int(cells[3].replace(",", "")) > 0, (key, cells)
        assert re.match(r"\d+\.\d\d×", cells[4]), (key, cells)
        if key[2] == "floor (raw driver)":
            assert cells[4].startswith("1.00×"), (key, cells)
        if key[2] in ("ours", "ours: import_batches"):
            assert re.fullmatch(r"\d+\.\d\d×", cells[5]), (key, cells)
        if key[2] == "ours":  # the tree integrating behind the head, against the append's time
            assert re.fullmatch(r"\d+\.\d\d×", cells[6]), (key, cells)


def test_quick_append_benchmark_on_sqlite_prints_every_row():
    check(run_quick("--backends", "sqlite"), ("sqlite",))


@pytest.mark.postgres
def test_quick_append_benchmark_prints_every_row():
    check(run_quick(), ("sqlite", "postgres"))


# -- python -m benchmarks timeline --quick ------------------------------------------------------------

TIMELINE_PATHS = (
    "snapshots, warm",
    "snapshots, first read",
    "no snapshots",
    "floor (raw driver)",
)
RATIO = r"\d+\.\d\d×( \(\d+\.\d\d–\d+\.\d\d\))?"  # `0.55×` or `0.55× (0.51–0.58)`
NUMBER = r"[\d,]+(\.\d+)?"


def run_timeline_quick(*extra: str) -> str:
    return run_quick(*extra, section="timeline")


def tables(output: str) -> dict[tuple[str, str], list[list[str]]]:
    """Every Markdown table of the output, by its first two header cells: the rows' cells."""
    found: dict[tuple[str, str], list[list[str]]] = {}
    lines = output.splitlines()
    for index, line in enumerate(lines[:-1]):
        if line.startswith("| ") and lines[index + 1].startswith("|-"):
            header = tuple(cell.strip() for cell in line.strip().strip("|").split("|")[:2])
            rows = []
            for row in lines[index + 2 :]:
                if not row.startswith("| "):
                    break
                rows.append([cell.strip() for cell in row.strip().strip("|").split("|")])
            found[header] = rows
    return found


def positive(cell: str) -> bool:
    return re.fullmatch(NUMBER, cell) is not None and float(cell.replace(",", "")) > 0


def check_timeline(output: str, backends: tuple[str, ...]) -> None:
    found = tables(output)
    fold_table, entries_table = ("fold workload", "call"), ("entries() of a state", "entries shown")
    loading, http, as_of = ("backend", "incident"), ("backend", "GET /timeline"), ("backend", "as-of read")
    version_at = ("backend", "version_at")
    assert list(found) == [fold_table, entries_table, loading, http, as_of, version_at], output
    assert re.search(r"^\(timeline took \d+ s\)$", output, re.MULTILINE), output

    fold = {row[1]: row for row in found[fold_table]}
    assert set(fold) == {"fold", "fold, keep_history=True"}, output
    for cells in fold.values():
        assert positive(cells[2]) and positive(cells[3]) and re.fullmatch(RATIO, cells[4]), cells
    assert fold["fold"][4].startswith("1.00×"), fold["fold"]

    shown = found[entries_table]
    assert [row[0] for row in shown] == ["10 assertions", "100 assertions", "300 assertions"], output
    for cells in shown:
        assert all(re.fullmatch(NUMBER, cell) for cell in cells[1:]), cells
        assert positive(cells[1]) and positive(cells[3]) and positive(cells[5]), cells

    incidents = ("as-of-300", "as-of-1500", "http-10", "http-100", "http-300")
    assert {(row[0], row[1]) for row in found[loading]} == {(b, i) for b in backends for i in incidents}, output
    for cells in found[loading]:
        assert all(positive(cell.removesuffix(" ev")) for cell in (cells[2], cells[3], cells[5])), cells

    responses = ("200", "304 If-None-Match")
    assert {(row[0], row[2]) for row in found[http]} == {(b, r) for b in backends for r in responses}, output
    assert len(found[http]) == 3 * len(responses) * len(backends), output
    for cells in found[http]:
        assert positive(cells[3]) and positive(cells[4]), cells
        if cells[2] == "200":
            assert positive(cells[5]) and cells[6] == "1.00×", cells
        else:
            assert cells[5] == "0" and re.fullmatch(RATIO, cells[6]), cells

    assert {(row[0], row[2]) for row in found[as_of]} == {(b, p) for b in backends for p in TIMELINE_PATHS}, output
    assert len(found[as_of]) == 2 * len(TIMELINE_PATHS) * len(backends), output
    for cells in found[as_of]:
        assert positive(cells[3]) and re.fullmatch(RATIO, cells[4]), cells
        if cells[2] == "floor (raw driver)":
            assert cells[4] == "1.00×", cells
        long_history = cells[1].startswith("1,500 ev")
        assert re.fullmatch(RATIO, cells[5]) if long_history else cells[5] == "", cells

    moments = ("50 before the end", "middle", "now")
    points = {(b, h, m) for b in backends for h in ("300 ev", "1,500 ev") for m in moments}
    assert {(row[0], row[1], re.split(r" \(|,", row[2])[0]) for row in found[version_at]} == points, output
    assert len(found[version_at]) == len(points), output
    for cells in found[version_at]:
        assert positive(cells[3]), cells


def test_quick_timeline_benchmark_on_sqlite_prints_every_row():
    check_timeline(run_timeline_quick("--backends", "sqlite"), ("sqlite",))


@pytest.mark.postgres
def test_quick_timeline_benchmark_prints_every_row():
    check_timeline(run_timeline_quick(), ("sqlite", "postgres"))


# -- python -m benchmarks assertions --quick ----------------------------------------------------------

ASSERTION_QUERIES = (
    "q=body camera",
    "attributed_to=Kristi Noem",
    "actor=kristi-noem",
    "as_of_position=N&disputed=true",
)
ASSERTION_STORES = ("300 assertions", "90 assertions")  # the quick run's large and small stores
READERS = ("EventStore.read_all", "GET /v1/events", "floor (raw driver)")
MEGABYTES = r"[\d,]+ MB"


def check_assertions(output: str, backends: tuple[str, ...]) -> None:
    found = tables(output)
    queries, rebuilds, reads = ("backend", "store"), ("backend", "rebuild of"), ("backend", "log")
    assert list(found) == [queries, rebuilds, reads], output
    assert re.search(r"^\(assertions took \d+ s\)$", output, re.MULTILINE), output

    paths = ("index (HTTP)", "fold (Python)")
    expected = {(b, s, q, p) for b in backends for s in ASSERTION_STORES for q in ASSERTION_QUERIES for p in paths}
    assert {tuple(row[:4]) for row in found[queries]} == expected, output
    assert len(found[queries]) == len(expected), output
    for cells in found[queries]:
        large, index = cells[1] == ASSERTION_STORES[0], cells[3] == "index (HTTP)"
        assert positive(cells[4]) and positive(cells[5]), cells  # samples; matches (both paths agree: checked)
        assert positive(cells[6]) and positive(cells[7]), cells  # p50, p95
        assert re.fullmatch(RATIO, cells[8]) if large else cells[8] == "", cells
        assert re.fullmatch(RATIO, cells[9]) if index else cells[9] == "", cells
        if large and index:
            assert re.fullmatch(r"p50 (met|NOT met); 100k/1k (met|NOT met)", cells[10]), cells
        else:
            assert cells[10] == "", cells

    stores = ("90 assertions", "300 assertions", "3,000 events")
    assert {(row[0], row[1]) for row in found[rebuilds]} == {(b, s) for b in backends for s in stores}, output
    for cells in found[rebuilds]:
        assert all(positive(cell) for cell in cells[2:7]), cells
        assert re.fullmatch(MEGABYTES, cells[7]) and re.fullmatch(MEGABYTES, cells[8]), cells
        assert cells[9] in ("met", "NOT met"), cells

    assert {(row[0], row[2]) for row in found[reads]} == {(b, r) for b in backends for r in READERS}, output
    for cells in found[reads]:
        assert re.fullmatch(r"[\d,]+ events", cells[1]) and positive(cells[3]) and re.fullmatch(RATIO, cells[4]), cells
        if cells[2] == "floor (raw driver)":
            assert cells[4] == "1.00×", cells


def test_quick_assertions_benchmark_on_sqlite_prints_every_row():
    check_assertions(run_quick("--backends", "sqlite", section="assertions"), ("sqlite",))


@pytest.mark.postgres
def test_quick_assertions_benchmark_prints_every_row():
    check_assertions(run_quick(section="assertions"), ("sqlite", "postgres"))


# -- python -m benchmarks serving --quick ----------------------------------------------------------


@pytest.mark.postgres
def test_quick_serving_benchmark_prints_a_row_per_backend_and_status():
    output = run_quick(section="serving")
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in output.splitlines()
        if line.strip().startswith("| sqlite") or line.strip().startswith("| postgres")
    ]
    assert {(row[0], row[1], row[2]) for row in rows} == {
        (backend, "30 assertions", status) for backend in ("sqlite", "postgres") for status in ("200", "304")
    }, output
    for row in rows:
        assert int(row[3].replace(",", "")) > 0 and int(row[4].replace(",", "")) > 0, row
        assert re.match(r"\d+\.\d\d×", row[5]) and row[8] in ("met", "NOT met"), row


# -- python -m benchmarks proofs --quick ---------------------------------------------------------------

PROOF_ROWS = (
    "store: inclusion",
    "store: consistency",
    "HTTP: inclusion",
    "HTTP: consistency",
    "check: verify_inclusion (client side)",
)


def test_quick_proofs_benchmark_prints_every_row():
    output = run_quick("--backends", "sqlite", section="proofs")
    rows = {}
    for line in output.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[0] == "sqlite":
            rows[cells[2]] = cells
    assert set(rows) == set(PROOF_ROWS), output
    for name, cells in rows.items():
        assert cells[1] == "2,000" and int(cells[3].replace(",", "")) > 0, (name, cells)
