"""The wheel is the product: built from a copy of the tree, installed into a fresh venv, and run.

Source-tree tests pass even when a subpackage is missing from the wheel; this one does not. The
fresh venv gets the wheel itself (no editable install, not the source tree on sys.path) and
borrows the dependencies from the test venv through a `.pth` line, so the test needs no download
of PySide6 and friends. The commands run from an empty folder, and each one first proves that
`engine` and `gui` are imported from the fresh venv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

import engine

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("engine", "gui", "plexsync_sim", "resources")
NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache", "docs", "bench"
)


def package_dirs() -> set[str]:
    return {
        init.parent.relative_to(ROOT).as_posix()
        for top in SHIPPED
        for init in (ROOT / top).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    shutil.copytree(ROOT, source, ignore=NOT_COPIED)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(work), str(source)],
        check=True,
        timeout=300,
    )
    (built,) = work.glob("plexsync_tray-*.whl")
    return built


@pytest.fixture(scope="module")
def fresh_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("venv")
    venv.create(home, with_pip=False)
    python = home / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    # The dependencies come from the test venv, after the fresh venv's own site-packages.
    (site / "borrowed-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run(
        # pip's --python runs it in the fresh venv, so the scripts' shebangs name that venv.
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "-q",
            "--no-deps",
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    return home


def run_installed(home: Path, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    }
    env.update(
        QT_QPA_PLATFORM="offscreen",
        HOME=str(tmp_path),
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_DATA_HOME=str(tmp_path / "data"),
        XDG_STATE_HOME=str(tmp_path / "state"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        PLEXAPI_CONFIG_PATH="/nonexistent",
    )
    cwd = tmp_path / "elsewhere"
    cwd.mkdir(exist_ok=True)
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_every_package_directory_and_resource_is_in_the_wheel(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    in_wheel = {name.rsplit("/", 1)[0] for name in names if name.endswith("/__init__.py")}
    missing = package_dirs() - in_wheel
    assert not missing, f"packages missing from the wheel: {sorted(missing)}"
    assert not any(name.startswith("tests/") for name in names)
    for resource in (ROOT / "resources").iterdir():
        if resource.suffix in (".svg", ".desktop", ".service", ".png", ".plist"):
            assert f"resources/{resource.name}" in names


def test_the_wheel_carries_the_one_version(wheel: Path) -> None:
    assert wheel.name.startswith(f"plexsync_tray-{engine.__version__}-")


def test_the_installed_commands_run_from_the_fresh_venv(fresh_venv: Path, tmp_path: Path) -> None:
    python = str(fresh_venv / "bin" / "python")
    where = run_installed(
        fresh_venv,
        tmp_path,
        python,
        "-c",
        "import engine, gui, plexsync_sim, resources; "
        "print(engine.__file__, gui.__file__, plexsync_sim.__file__, resources.__file__)",
    )
    assert where.returncode == 0, where.stderr
    for path in where.stdout.split():
        assert Path(path).is_relative_to(fresh_venv), where.stdout

    for script in ("plexsync", "plexsync-tray"):
        shebang = (fresh_venv / "bin" / script).read_text().splitlines()[0]
        assert shebang == f"#!{fresh_venv / 'bin' / 'python'}", shebang

    helped = run_installed(fresh_venv, tmp_path, str(fresh_venv / "bin" / "plexsync"), "--help")
    assert helped.returncode == 0, helped.stderr
    assert "usage: plexsync" in helped.stdout

    status = run_installed(fresh_venv, tmp_path, str(fresh_venv / "bin" / "plexsync"), "status")
    assert status.returncode == 0, status.stderr
    assert "not configured" in status.stdout
    assert "Engine:" in status.stdout and "not running" in status.stdout

    tray = run_installed(
        fresh_venv, tmp_path, str(fresh_venv / "bin" / "plexsync-tray"), "--version"
    )
    assert tray.returncode == 0, tray.stderr
    assert tray.stdout.strip().endswith(engine.__version__)
