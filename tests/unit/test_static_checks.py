"""The pure core (the event catalog and the fold) is type-checked strictly, and that setting is in force."""

from __future__ import annotations

import tomllib
from pathlib import Path

from mypy import api as mypy_api

ROOT = Path(__file__).resolve().parents[2]
STRICT_MODULES = {"events.*", "app.projections.timeline"}
STRICT_FLAGS = {
    "disallow_any_generics": True,
    "disallow_subclassing_any": True,
    "disallow_untyped_calls": True,
    "disallow_untyped_defs": True,
    "disallow_incomplete_defs": True,
    "check_untyped_defs": True,
    "disallow_untyped_decorators": True,
    "warn_unused_ignores": True,
    "warn_return_any": True,
    "implicit_reexport": False,
    "strict_equality": True,
    "extra_checks": True,
}
UNTYPED = "def untyped(value):\n    return value\n"


def strict_override() -> dict[str, object]:
    mypy = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    found = [block for block in mypy.get("overrides", []) if STRICT_MODULES <= set(block["module"])]
    assert len(found) == 1, f"one override should name {sorted(STRICT_MODULES)}"
    return found[0]


def test_the_catalog_and_the_fold_have_every_strict_flag():
    override = strict_override()
    assert {name: override.get(name) for name in STRICT_FLAGS} == STRICT_FLAGS


def test_mypy_applies_the_strict_flags_to_those_modules_only(tmp_path: Path):
    strict = ["events/probe.py", "app/projections/timeline.py"]
    lenient = ["elsewhere/probe.py", "app/projections/incident.py"]
    for name in strict + lenient:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        for package in Path(name).parents[:-1]:
            (tmp_path / package / "__init__.py").touch()
        path.write_text(UNTYPED)
    out, err, status = mypy_api.run(
        [
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / "cache"),
            "--no-error-summary",
            *(str(tmp_path / name) for name in strict + lenient),
        ]
    )
    flagged = sorted(
        line.split(":")[0] for line in out.splitlines() if ": error:" in line and "[no-untyped-def]" in line
    )
    assert flagged == sorted(str(tmp_path / name) for name in strict), out + err
    assert status == 1
