"""The layers hold (import-linter contracts in pyproject.toml) and importing a module has no side
effect: no file written, no variable of the environment changed, no working folder made."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ccq.settings import PROJECT_ROOT

PACKAGES = ("ccq", "orchestration", "expectations", "app")


def test_the_layers_contract_holds():
    run = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"], cwd=PROJECT_ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "4 kept, 0 broken" in run.stdout


def test_ccq_never_imports_orchestration_even_indirectly():
    # The contract's own claim, checked once more by importing: every ccq module loads without
    # bringing in orchestration, expectations or the app.
    code = ("import pkgutil, importlib, sys, ccq\n"
            "for m in pkgutil.walk_packages(ccq.__path__, 'ccq.'):\n"
            "    importlib.import_module(m.name)\n"
            "print(sorted({n.split('.')[0] for n in sys.modules} & {'orchestration', 'expectations', 'app'}))")
    run = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip() == "[]"


def _files() -> dict[str, float]:
    """Every file of the project and its modification time, but the run folders dbt writes into."""
    out = {}
    for top, dirs, files in os.walk(PROJECT_ROOT):
        rel = Path(top).relative_to(PROJECT_ROOT).as_posix()
        dirs[:] = [d for d in dirs if d not in (".git", ".venv", ".ccq", "__pycache__", ".pytest_cache", "logs",
                                                "test-artifacts", ".import_linter_cache")
                   and not (rel == "dbt_project/target")]  # other tests' dbt runs write their own folders there
        for f in files:
            p = Path(top) / f
            out[p.relative_to(PROJECT_ROOT).as_posix()] = p.stat().st_mtime
    return out


def test_importing_every_module_touches_nothing(tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, "CCQ_HOME": str(home)}
    env.pop("DAGSTER_IS_DEV_CLI", None)
    code = ("import json, os, pkgutil, importlib\n"
            "import streamlit  # sets MPLBACKEND on import: Streamlit's side effect, not ours\n"
            "before = dict(os.environ)\n"
            "names = []\n"
            f"for pkg in {PACKAGES!r}:\n"
            "    p = importlib.import_module(pkg)\n"
            "    for m in pkgutil.walk_packages(p.__path__, pkg + '.'):\n"
            "        if m.name != 'app.streamlit_app':  # a script Streamlit runs, not a module\n"
            "            importlib.import_module(m.name); names.append(m.name)\n"
            "changed = sorted(k for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k))\n"
            "print(json.dumps({'modules': names, 'changed': changed}))")
    before = _files()
    run = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    out = json.loads(run.stdout.strip().splitlines()[-1])
    assert "orchestration.definitions" in out["modules"] and "ccq.ingest.adapters.registry" in out["modules"]
    assert out["changed"] == []
    after = _files()
    assert {f for f in after if after[f] != before.get(f)} == set()
    assert not home.exists()
