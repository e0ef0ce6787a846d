"""The harness ships in the wheel: installed anywhere, inspect finds its tasks by entry point.

The wheel `uv build` makes goes into a fresh virtual environment outside the
repository, with exactly the locked dependencies taken from the uv cache
(offline), and `inspect eval packet_eval/...` runs from a directory that holds
nothing but a copy of the golden dataset. Nothing may come from the source tree.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from inspect_ai.log import read_eval_log

ROOT = Path(__file__).resolve().parent.parent
UV = shutil.which("uv")

pytestmark = pytest.mark.skipif(UV is None, reason="needs uv to build and install the wheel")


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    res = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, f"{' '.join(args)}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bin/ directory of a fresh venv holding the built wheel and the locked dependencies."""
    assert UV is not None
    work = tmp_path_factory.mktemp("wheel")
    dist = work / "dist"
    _run([UV, "build", "--wheel", "--offline", "--out-dir", str(dist)], ROOT)
    [wheel] = dist.glob("packet_eval-*.whl")
    venv = work / "venv"
    # The locked dependencies (the lock already applies pyproject's override) into a venv
    # outside the repository, without the project. `uv sync` reads the lock's own URLs, which
    # the CI sync cached; `uv pip install -r` of an export would need the index's pages too,
    # which a fresh machine's cache does not hold offline.
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv)}
    env.pop("VIRTUAL_ENV", None)
    _run([UV, "sync", "--frozen", "--no-dev", "--no-install-project", "--offline",
          "--python", sys.executable], ROOT, env)
    python = venv / "bin" / "python"
    _run([UV, "pip", "install", "--offline", "--python", str(python), "--no-deps", str(wheel)],
         work)
    return venv / "bin"


def _inspect(bin_dir: Path, cwd: Path, tasks: list[str], *args: str) -> list[Path]:
    """Run ``inspect eval`` on the installed tasks; the logs it wrote."""
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
               PACKET_EVAL_HOME=str(cwd / "home"))
    logs = cwd / "logs"
    _run([str(bin_dir / "inspect"), "eval", *tasks, "-T", "extractor=baseline", "-T",
          f"dataset={cwd / 'golden'}", "--model", "none", "--log-dir", str(logs),
          "--display", "none", *args], cwd, env)
    return sorted(logs.glob("*.eval"))


def test_installed_wheel_runs_the_harness_in_any_directory(installed, tmp_path):
    shutil.copytree(ROOT / "datasets" / "golden", tmp_path / "golden")
    [path] = _inspect(installed, tmp_path, ["packet_eval/packet_extraction"])
    log = read_eval_log(str(path))
    assert log.status == "success", log.error
    assert log.eval.task == "packet_eval/packet_extraction"
    assert log.results is not None and log.results.total_samples > 0
    # The package, not the checkout, answered: the task came from site-packages.
    where = _run([str(installed / "python"), "-c", "import packet_eval; print(packet_eval.__file__)"],
                 tmp_path)
    assert str(ROOT) not in where and "site-packages" in where


def test_installed_wheel_runs_the_injection_suite_and_the_probes(installed, tmp_path):
    # The injection suite reads its forms and the sample packet from package data. One
    # process runs both tasks (a few samples each): inspect's start-up is most of the time.
    shutil.copytree(ROOT / "datasets" / "golden", tmp_path / "golden")
    paths = _inspect(installed, tmp_path, ["packet_eval/injection", "packet_eval/probes"],
                     "-T", "probes=name_swap,padding", "--limit", "2")
    logs = {log.eval.task: log for log in (read_eval_log(str(p), header_only=True) for p in paths)}
    assert set(logs) == {"packet_eval/injection", "packet_eval/probes"}
    for task, log in logs.items():
        assert log.status == "success", (task, log.error)
        assert log.results is not None and log.results.total_samples == 2
