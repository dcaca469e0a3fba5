"""Building the package names its top-level packages explicitly: setuptools neither
refuses the flat layout nor warns about packages installed as data (#23, "no warnings at
install")."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = (
    "switchyard",
    "workers",
    "producers",
    "queueing",
    "routes",
    "providers",
    "storage",
    "contract",
)
WARNINGS = (
    "as data is deprecated",  # a directory with modules shipped as package data
    "multiple top-level packages",  # the flat layout's auto-discovery refusing
    "package would be ignored",
    "top-level names",  # the editable finder's warning about generic names
)


def _build(tmp_path: Path) -> str:
    """Run setuptools' metadata and build steps of a wheel (offline, the venv's setuptools)."""
    result = subprocess.run(
        [
            *(sys.executable, "-W", "default", "-c", "import setuptools; setuptools.setup()"),
            *("egg_info", "--egg-base", str(tmp_path)),
            *("build_py", "--build-lib", str(tmp_path / "lib")),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-3000:]
    return output


def test_build_prints_no_packaging_warning(tmp_path: Path) -> None:
    """setuptools builds every package without a top-level or package-data warning."""
    output = _build(tmp_path)
    noisy = [
        line
        for line in output.lower().splitlines()
        if any(w in line for w in WARNINGS) and not line.startswith("writing top-level names")
    ]
    assert noisy == []
    built = sorted(p.name for p in (tmp_path / "lib").iterdir())
    assert built == sorted(PACKAGES)
    assert (tmp_path / "lib" / "storage" / "migrations" / "script.py.mako").is_file()
    assert (tmp_path / "lib" / "contract" / "py.typed").is_file()
