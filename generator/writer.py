"""Render the package, format it with ruff, and write it (or, with ``check``, compare it).

Output is a pure function of the schema: files in sorted order, no timestamps, formatted
by ruff with fixed settings (``--isolated``) so the user's own ruff config cannot change it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from jadugar.errors import ConfigurationError

from .render import render
from .views import PackageView

RUFF_ARGS = ("--isolated", "--line-length", "100", "--target-version", "py311")


@dataclass
class GenerateResult:
    package_dir: Path
    written: list[Path] = field(default_factory=list)  # created or changed
    stale: list[Path] = field(default_factory=list)  # with check: differing or missing
    extra: list[Path] = field(default_factory=list)  # files generated/ has but should not
    lines: int = 0

    @property
    def up_to_date(self) -> bool:
        return not self.stale and not self.extra


def render_package(view: PackageView) -> dict[str, str]:
    """File name -> source, before formatting."""
    files = {"__init__.py": render("package_init.py.j2", p=view), "py.typed": ""}
    for model in view.models:
        files[f"{model.module}.py"] = render("model.py.j2", m=model)
    return dict(sorted(files.items()))


def format_sources(files: dict[str, str]) -> dict[str, str]:
    """Sort imports and format every ``.py`` file with ruff in one run."""
    with tempfile.TemporaryDirectory(prefix="jadugar-gen-") as tmp:
        root = Path(tmp)
        for name, text in files.items():
            (root / name).write_text(text)
        python = [str(root / n) for n in files if n.endswith(".py")]
        _ruff("check", "--fix", "--quiet", "--select", "I", "--exit-zero", *python)
        _ruff("format", "--quiet", *python)
        return {name: (root / name).read_text() for name in files}


def _ruff(command: str, *args: str) -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(ruff).exists():
        raise ConfigurationError(
            "jadugar generate formats its output with ruff: install it "
            "(`pip install 'jadugar[generator]'`)"
        )
    done = subprocess.run(
        [ruff, command, *RUFF_ARGS, *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"ruff {command} failed on generated code:\n{done.stderr}{done.stdout}")


def write_package(files: dict[str, str], package_dir: Path, *, check: bool) -> GenerateResult:
    """Write ``files`` into ``package_dir`` (only the ones that changed), or with ``check``
    only report what differs. Files there that the schema no longer produces are removed."""
    result = GenerateResult(package_dir)
    result.lines = sum(text.count("\n") for text in files.values())
    existing = (
        {p.name for p in package_dir.glob("*") if p.is_file()} if package_dir.is_dir() else set()
    )
    for name, text in files.items():
        path = package_dir / name
        current = path.read_text() if name in existing else None
        if current != text:
            (result.stale if check else result.written).append(path)
    result.extra = [package_dir / n for n in sorted(existing - set(files)) if not n.startswith(".")]
    if check:
        return result
    package_dir.mkdir(parents=True, exist_ok=True)
    for path in result.written:
        path.write_text(files[path.name])
    for path in result.extra:
        path.unlink()
    return result
