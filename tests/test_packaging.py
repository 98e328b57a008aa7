"""What `pip install .` puts in site-packages: everything under ``triage/``, nothing called ``tui`` or ``prompts``.

The repository keeps ``tui/`` and ``prompts/`` at the top (the project card's layout); pyproject maps them to
``triage.tui`` and ``triage.prompts``.  The wheel is built from a copy of the sources, so the build leaves
nothing behind in the checkout and runs beside other tests.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MAPPED = {"triage": "triage", "tui": "triage/tui", "prompts": "triage/prompts"}


def _build_wheel(tmp_path: Path) -> list[str]:
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, src / name)
    for folder in MAPPED:
        shutil.copytree(REPO / folder, src / folder, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path / "dist"
    subprocess.run([sys.executable, "-c", "import sys; from setuptools import build_meta as b; b.build_wheel(sys.argv[1])",
                    str(out)], cwd=src, check=True, capture_output=True, timeout=120)
    (wheel,) = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as zf:
        return zf.namelist()


def test_wheel_installs_tui_and_prompts_inside_triage(tmp_path: Path) -> None:
    names = _build_wheel(tmp_path)
    top_level = {n.split("/", 1)[0] for n in names if ".dist-info/" not in n}
    assert top_level == {"triage"}, top_level
    shipped = set(names)
    # Every source file and resource of the three folders lands at its mapped place: a subpackage missing from
    # pyproject's list would be silently left out of the wheel otherwise.
    expected = {
        f"{MAPPED[folder]}/{path.relative_to(REPO / folder).as_posix()}"
        for folder in MAPPED
        for path in (REPO / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    assert expected - shipped == set()
    assert {"triage/prompts/constitution.md", "triage/tui/app.tcss", "triage/tui/app.py"} <= shipped
