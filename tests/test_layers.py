"""The layering rule, enforced by import-linter in the test run."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]


def _lint_imports(config: Path) -> subprocess.CompletedProcess:
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    return subprocess.run([exe, "--config", str(config)], cwd=ROOT, capture_output=True, text=True)


def _contracts() -> list[dict]:
    import tomllib
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]


def test_import_contracts_hold():
    """Judged by import-linter's exit status (0: every contract kept, 1: one broken), never its wording."""
    names = [c["name"] for c in _contracts()]
    assert len(names) == 3 and any("layers" in n for n in names), names
    proc = _lint_imports(ROOT / "pyproject.toml")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_broken_contract_fails_the_lint(tmp_path):
    """The exit status is a verdict: the same configuration plus one contract the code breaks (theory
    forbidden from importing sympy) exits 1, while the same file without it exits 0."""
    import tomllib
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]

    def write(contracts, name):
        lines = ["[tool.importlinter]",
                 "root_packages = [" + ", ".join(f'"{p}"' for p in config["root_packages"]) + "]",
                 f"include_external_packages = {str(config.get('include_external_packages', False)).lower()}"]
        for c in contracts:
            lines.append("[[tool.importlinter.contracts]]")
            for key, value in c.items():
                lines.append(f"{key} = " + (f'"{value}"' if isinstance(value, str) else
                                            "[" + ", ".join(f'"{v}"' for v in value) + "]"))
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n")
        return path

    broken = {"name": "theory without sympy (false)", "type": "forbidden", "source_modules": ["theory"],
              "forbidden_modules": ["sympy"]}
    proc = _lint_imports(write(config["contracts"] + [broken], "broken.toml"))
    assert proc.returncode == 1, proc.stdout + proc.stderr
    proc = _lint_imports(write(config["contracts"], "same.toml"))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_importing_gpu_validation_does_not_import_torch():
    code = "import sys, gpu_validation; assert 'torch' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT).returncode == 0


def test_only_the_cli_layer_prints():
    offenders = []
    for layer in ("theory", "numerics", "gpu_validation"):
        for path in (ROOT / layer).rglob("*.py"):
            for n, line in enumerate(path.read_text().splitlines(), 1):
                if line.strip().startswith("print("):
                    offenders.append(f"{path}:{n}")
    assert not offenders


def test_hypothesis_profiles_select_and_dev_and_ci_are_derandomized():
    """HYPOTHESIS_PROFILE picks the profile (CI=true picks ci); dev and ci draw the same examples every run."""
    import os
    code = ("import sys; sys.path.insert(0, 'tests'); import conftest; from hypothesis import settings; "
            "print(conftest.PROFILE, settings.default.derandomize, settings.default.max_examples)")
    seen = {}
    for env in ({"HYPOTHESIS_PROFILE": "dev"}, {"HYPOTHESIS_PROFILE": "ci"}, {"HYPOTHESIS_PROFILE": "thorough"},
                {"CI": "true"}, {}):
        base = {k: v for k, v in os.environ.items() if k not in ("HYPOTHESIS_PROFILE", "CI")}
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**base, **env}, capture_output=True,
                             text=True, check=True).stdout.split()
        seen[tuple(env.items())] = out
    assert seen[(("HYPOTHESIS_PROFILE", "dev"),)] == ["dev", "True", "30"]
    assert seen[(("HYPOTHESIS_PROFILE", "ci"),)] == ["ci", "True", "200"]
    assert seen[(("HYPOTHESIS_PROFILE", "thorough"),)] == ["thorough", "False", "2000"]
    assert seen[(("CI", "true"),)] == ["ci", "True", "200"] and seen[()] == ["dev", "True", "30"]
