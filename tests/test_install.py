"""An installed Boltdeck: the wheel carries the UI and the default Bolt project, and serves them.

The wheel is built once from a copy of the source tree (as pip builds it, symlinks followed) and
installed into a fresh venv. To keep the suite fast and offline, that venv finds the
dependencies in the running venv (a .pth line) instead of downloading them; Boltdeck itself
comes from the wheel only, never from this checkout.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

import pytest
import requests

from boltdeck.config import Settings  # imported here, before any test changes directory

from .conftest import ROOT

SOURCES = ("pyproject.toml", "README.md", "backend", "frontend", "bolt-project")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel pip builds from a clean copy of the sources."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
            shutil.copytree(ROOT / name, source / name, symlinks=True, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    build = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(dist), str(source)]
    subprocess.run(build, check=True, capture_output=True, timeout=300)
    (built,) = dist.glob("boltdeck-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed; its bin/ folder."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", str(wheel)]
    subprocess.run(install, check=True, capture_output=True, timeout=300)
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    # After the venv's own site-packages, so the wheel's boltdeck wins over this checkout's editable one.
    (Path(site) / "zz_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin"


def test_install_wheel_carries_the_ui_the_default_project_and_py_typed(wheel):
    """Bug: the wheel held no frontend/ and no bolt-project/ (an installed Boltdeck had no UI and
    no project), and py.typed was named in package-data but missing."""
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {"boltdeck/py.typed", "boltdeck/frontend/index.html", "boltdeck/bolt-project/bolt-project.yaml"}
    assert expected <= names
    shipped_ui = {name.removeprefix("boltdeck/frontend/") for name in names if name.startswith("boltdeck/frontend/")}
    assert shipped_ui == {str(p.relative_to(ROOT / "frontend")) for p in (ROOT / "frontend").rglob("*") if p.is_file()}


def test_install_installed_boltdeck_uses_its_own_project(installed, tmp_path):
    code = "import boltdeck, boltdeck.config as c; print(boltdeck.__file__); print(c.Settings.load(environ={}).bolt_project)"
    done = subprocess.run([str(installed / "python"), "-c", code], capture_output=True, text=True, cwd=tmp_path, check=True)
    module, project = done.stdout.splitlines()
    venv = installed.parent
    assert Path(module).is_relative_to(venv), "boltdeck was imported from the checkout, not the wheel"
    assert Path(project).is_relative_to(venv) and (Path(project) / "bolt-project.yaml").is_file()


def test_install_installed_boltdeck_serve_answers_the_ui(installed, tmp_path):
    env = {"PATH": "/usr/bin:/bin", "BOLTDECK_DATABASE_URL": f"sqlite:///{tmp_path / 'boltdeck.sqlite3'}"}
    with open(tmp_path / "server.log", "wb") as log:
        server = subprocess.Popen(
            [str(installed / "boltdeck"), "serve", "--host", "127.0.0.1", "--port", "0"],
            stdout=subprocess.PIPE, stderr=log, env=env, cwd=tmp_path,
        )  # fmt: skip
    try:
        url = _listening_url(server, tmp_path / "server.log")
        page = requests.get(url + "/", timeout=30)
        assert page.status_code == 200 and page.content == (ROOT / "frontend" / "index.html").read_bytes()
        script = requests.get(url + "/static/js/app.js", timeout=30)
        assert script.status_code == 200 and script.content == (ROOT / "frontend" / "js" / "app.js").read_bytes()
    finally:
        server.terminate()
        server.wait(30)
        server.stdout.close()


def test_install_database_default_follows_the_working_directory_of_each_load(tmp_path, monkeypatch):
    """Bug: the default database path was frozen from the working directory at import time."""
    monkeypatch.chdir(tmp_path)
    assert Settings.load(environ={}).database_url == f"sqlite:///{Path.cwd() / 'var' / 'boltdeck.sqlite3'}"


def _listening_url(server: subprocess.Popen, log: Path) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        match = re.search(rb"http://127\.0\.0\.1:\d+", server.stdout.readline())
        if match:
            return match.group(0).decode()
        if server.poll() is not None:
            break
    raise AssertionError(f"the installed server did not start: {log.read_text()}")
