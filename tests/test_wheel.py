"""The package works when installed as a wheel, not only from a checkout.

The wheel is built from a copy of the package sources (so the checkout's `build/` folder, which
may hold stale files, never leaks into it), installed with `--no-deps` into a fresh virtualenv,
and the CLI is run from that virtualenv in a folder outside the repository: `generate` (ABC, MIDI,
WAV), `convert`, and `serve`'s page. The dependencies come from this test's own environment
through a `.pth` line naming its site-packages: a plain path line does not run that folder's own
`.pth` files, so the checkout's editable-install hook stays off and `symbolic` can only come from
the wheel (asserted below). Nothing is downloaded.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What setuptools needs to build the wheel; everything else in the checkout stays out.
BUILD_INPUTS = ("pyproject.toml", "README.md", "symbolic")
TUNE = """X:1
T:The Wheel Test Jig
M:6/8
L:1/8
R:jig
K:G
|:GAB cBA|BGE EDE|GAB cBA|BGE E3:|
"""


@dataclass(frozen=True)
class Installed:
    venv: Path
    work: Path  # a folder outside the repository to run the commands in
    env: dict[str, str]

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def symbolic(self) -> Path:
        return self.venv / "bin" / "symbolic"

    def run(self, *args: str | Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(a) for a in args], cwd=self.work, env=self.env, capture_output=True,
                              text=True, timeout=timeout, check=False)
        assert done.returncode == 0, f"{args} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        return done


def _build_wheel(folder: Path) -> Path:
    source = folder / "source"
    source.mkdir()
    for name in BUILD_INPUTS:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, source / name)
    dist = folder / "dist"
    # --no-build-isolation: use this environment's setuptools instead of fetching one.
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--no-index", "-w", str(dist), str(source)], check=True, capture_output=True, timeout=300)
    (wheel,) = dist.glob("symbolic-*.whl")
    return wheel


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    folder = tmp_path_factory.mktemp("wheel")
    assert not folder.resolve().is_relative_to(ROOT), "the commands must run outside the repository"
    wheel = _build_wheel(folder)
    venv = folder / "venv"
    # --without-pip: ensurepip takes seconds; this environment's pip installs into it by --python.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet",
                    "--no-deps", "--no-index", str(wheel)], check=True, capture_output=True, timeout=300)
    site = Path(subprocess.run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               check=True, capture_output=True, text=True).stdout.strip())
    ours = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "test-dependencies.pth").write_text("".join(f"{p}\n" for p in sorted(ours)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "VIRTUAL_ENV"}
    env |= {"PYTHONNOUSERSITE": "1", "HOME": str(folder), "PATH": f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"}
    work = folder / "work"
    work.mkdir()
    yield Installed(venv, work, env)


def test_the_wheel_carries_the_data_the_package_reads(installed: Installed) -> None:
    # The run-time data, inside the package: the bundled model, the instrument map, the forms,
    # openings and rhythms the sampler's priors read, the web page.
    (wheel,) = (installed.venv.parent / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("symbolic/instruments.json", "symbolic/bundled/model.json", "symbolic/bundled/weights.npz",
                 "symbolic/bundled/vocab.json", "symbolic/generation/forms.json",
                 "symbolic/generation/openings.json", "symbolic/generation/rhythms.json",
                 "symbolic/web/static/index.html"):
        assert name in names
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "benchmarks/"))]


def test_symbolic_is_imported_from_the_wheel_not_the_checkout(installed: Installed) -> None:
    # Importing the CLI and the web app pulls in most of the package; none of it may come from here.
    probe = ("import sys, symbolic, symbolic.cli.main, symbolic.web.app, symbolic.audio.render\n"
             "print(symbolic.__file__)\n"
             "print('\\n'.join(str(getattr(m, '__file__', None)) for m in list(sys.modules.values())))\n")
    lines = installed.run(installed.python, "-c", probe).stdout.splitlines()
    assert Path(lines[0]).resolve().is_relative_to(installed.venv.resolve()), lines[0]
    assert not [f for f in lines[1:] if f.startswith(str(ROOT / "symbolic") + os.sep)]


def test_generate_writes_abc_midi_and_wav(installed: Installed) -> None:
    out = installed.work / "generated"
    installed.run(installed.symbolic, "generate", "--seed", "7", "--out", out, "--formats", "abc,mid,wav")
    (abc,) = out.glob("*.abc")
    assert re.search(r"^X:\s*1$", abc.read_text(), re.MULTILINE) and "\nK:" in abc.read_text()
    (mid,) = out.glob("*.mid")
    assert mid.read_bytes()[:4] == b"MThd"
    (wav,) = out.glob("*.wav")
    data = wav.read_bytes()
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE" and len(data) > 44_100  # more than a header


def test_convert_abc_to_midi(installed: Installed) -> None:
    (installed.work / "x.abc").write_text(TUNE)
    out = installed.work / "converted"
    installed.run(installed.symbolic, "convert", "x.abc", "--to", "mid", "--out", out)
    (mid,) = out.glob("*.mid")
    assert mid.read_bytes()[:4] == b"MThd"


def test_serve_shows_its_page(installed: Installed) -> None:
    server = subprocess.Popen([str(installed.symbolic), "serve", "--port", "0", "--workers", "1"],
                              cwd=installed.work, env=installed.env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        assert server.stdout is not None
        line = server.stdout.readline()  # the CLI prints its address once the socket is bound
        match = re.search(r"serving on (http://\S+/)", line)
        assert match, f"no address printed: {line!r} {server.poll()}"
        url = match.group(1)
        page = _get(url, deadline=time.monotonic() + 60)
        assert "<title>symbolic" in page
        # The page's own script and style come from the package's static folder.
        assets = re.findall(r'(?:src|href)="/([^"]+\.(?:js|css))"', page)
        assert len(assets) >= 2, page[:500]
        for asset in assets:
            assert _get(url + asset, deadline=time.monotonic() + 10)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _get(url: str, deadline: float) -> str:
    """The body of a 200 answer; the socket is bound before uvicorn serves, so retry a moment."""
    while True:
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                assert response.status == 200
                return response.read().decode("utf-8")
        except (ConnectionError, urllib.error.URLError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
