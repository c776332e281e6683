"""SPEC 9 under ``mypy --strict``: correct application code over the generated ``blog``
models type-checks, and each misuse is an error on exactly the line that makes it.

* ``good/*.py``: realistic application code pinning types with ``typing.assert_type``;
  mypy must report nothing.
* ``bad/*.py``: one misuse per file; every line that must fail ends with ``# E: <code>``
  (mypy's error code, several separated by commas). mypy must report exactly those codes on
  exactly those lines, and nothing anywhere else, so a bad file cannot pass by accident
  through an unrelated error.
* "No ``Any`` leaking into the app": ``good/`` is checked again with ``--disallow-any-expr``.
  A line where an ``Any`` is known to reach the app carries ``# any: <reason>``; any other
  ``Any`` expression fails, and so does a ``# any:`` line that no longer has one (stale).

mypy runs in-process (``mypy.api.run``) once per folder: it is the slow part.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from mypy import api

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CONFIG = ROOT / "pyproject.toml"
GOOD = HERE / "good"
BAD = HERE / "bad"
GOOD_FILES = sorted(GOOD.glob("*.py"))
BAD_FILES = sorted(BAD.glob("*.py"))

_ERROR = re.compile(
    r"^(?P<path>.+?):(?P<line>\d+): error: (?P<message>.*?)(?:  \[(?P<code>[a-z0-9-]+)\])?$"
)
_EXPECTED = re.compile(r"#\s*E:\s*(?P<codes>[a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)\s*$")
_ANY_ALLOWED = re.compile(r"#\s*any:\s*\S")
_ANY_EXPR = 'Expression type contains "Any"'


@dataclass(frozen=True, slots=True)
class MypyError:
    path: Path
    line: int
    code: str | None
    message: str

    def __str__(self) -> str:
        return f"{_show(self.path)}:{self.line}: [{self.code}] {self.message}"


@dataclass(frozen=True, slots=True)
class MypyRun:
    args: tuple[str, ...]
    stdout: str
    stderr: str
    status: int
    errors: tuple[MypyError, ...]

    def in_file(self, path: Path) -> list[MypyError]:
        return [e for e in self.errors if e.path == path]

    def report(self) -> str:
        return f"mypy {' '.join(self.args)}\nexit {self.status}\n{self.stdout}{self.stderr}"


@dataclass(frozen=True, slots=True)
class Expected:
    path: Path
    line: int
    code: str

    def __str__(self) -> str:
        return f"{self.path.name}:{self.line}:{self.code}"


def _show(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def run_mypy(files: list[Path], cache_dir: Path, *extra: str) -> MypyRun:
    """``mypy --strict`` with the project's configuration on exactly these files.

    Files are passed one by one (not as a folder) so that an ``exclude`` for ``bad/`` in
    pyproject.toml, which only applies to recursive discovery, cannot hide them.
    """
    args = (
        "--config-file",
        str(CONFIG),
        "--strict",
        "--show-error-codes",
        "--no-error-summary",
        "--no-pretty",
        "--no-color-output",
        "--cache-dir",
        str(cache_dir),
        *extra,
        *(str(f) for f in files),
    )
    # mypy_path = "generated" is relative to the working directory, not to the config file.
    with contextlib.chdir(ROOT):
        stdout, stderr, status = api.run(list(args))
    errors = tuple(
        MypyError(
            path=(ROOT / m["path"]).resolve(),
            line=int(m["line"]),
            code=m["code"],
            message=m["message"],
        )
        for m in map(_ERROR.match, stdout.splitlines())
        if m is not None
    )
    return MypyRun(args, stdout, stderr, status, errors)


def _expected_in(path: Path) -> list[Expected]:
    found: list[Expected] = []
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        match = _EXPECTED.search(text)
        if match is not None:
            codes = (c.strip() for c in match["codes"].split(","))
            found.extend(Expected(path, number, code) for code in codes)
    return found


def _any_allowed_lines(path: Path) -> set[int]:
    lines = path.read_text().splitlines()
    return {n for n, text in enumerate(lines, start=1) if _ANY_ALLOWED.search(text)}


EXPECTED = [e for path in BAD_FILES for e in _expected_in(path)]


@pytest.fixture(scope="module")
def good_run(tmp_path_factory: pytest.TempPathFactory) -> MypyRun:
    return run_mypy(GOOD_FILES, tmp_path_factory.mktemp("mypy-good"))


@pytest.fixture(scope="module")
def bad_run(tmp_path_factory: pytest.TempPathFactory) -> MypyRun:
    return run_mypy(BAD_FILES, tmp_path_factory.mktemp("mypy-bad"))


@pytest.fixture(scope="module")
def any_run(tmp_path_factory: pytest.TempPathFactory) -> MypyRun:
    return run_mypy(GOOD_FILES, tmp_path_factory.mktemp("mypy-any"), "--disallow-any-expr")


def test_both_folders_have_files() -> None:
    assert GOOD_FILES, f"no application files in {GOOD}"
    assert BAD_FILES, f"no misuse files in {BAD}"


def test_good_code_type_checks(good_run: MypyRun) -> None:
    assert good_run.status == 0 and not good_run.errors, good_run.report()
    assert good_run.stderr == "", good_run.report()


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: p.name)
def test_every_bad_file_has_a_marker(path: Path) -> None:
    assert _expected_in(path), f"{_show(path)} has no `# E: <code>` marker"


@pytest.mark.parametrize("expected", EXPECTED, ids=str)
def test_misuse_is_a_type_error(bad_run: MypyRun, expected: Expected) -> None:
    on_line = [e for e in bad_run.in_file(expected.path) if e.line == expected.line]
    assert any(e.code == expected.code for e in on_line), (
        f"expected mypy error [{expected.code}] on {_show(expected.path)}:{expected.line}, "
        f"got: {[str(e) for e in on_line] or 'nothing'}\n\n{bad_run.report()}"
    )


@pytest.mark.parametrize("path", BAD_FILES, ids=lambda p: p.name)
def test_no_error_without_a_marker(bad_run: MypyRun, path: Path) -> None:
    wanted = {(e.line, e.code) for e in _expected_in(path)}
    unexpected = [str(e) for e in bad_run.in_file(path) if (e.line, e.code) not in wanted]
    assert not unexpected, "mypy errors without a matching `# E:` marker:\n" + "\n".join(unexpected)


def test_bad_run_reports_only_bad_files(bad_run: MypyRun) -> None:
    elsewhere = [str(e) for e in bad_run.errors if e.path not in BAD_FILES]
    assert not elsewhere, bad_run.report()
    assert bad_run.status == 1 and bad_run.stderr == "", bad_run.report()


def test_no_any_leaks_into_application_code(any_run: MypyRun) -> None:
    # --disallow-any-expr also reports ``Any`` inside generated/blog (the find_by merge of
    # ``where`` and ``values`` into a dict[str, Any] for the runtime) and would in the
    # runtime if it were not an installed package: only expressions in the application
    # files matter here, that is where an ``Any`` would silently switch off checking.
    problems: list[str] = []
    for path in GOOD_FILES:
        allowed = _any_allowed_lines(path)
        leaking = {e.line: e for e in any_run.in_file(path) if e.message.startswith(_ANY_EXPR)}
        problems += [f"Any leaks: {e}" for line, e in leaking.items() if line not in allowed]
        problems += [
            f"stale `# any:` marker (no Any here any more): {_show(path)}:{line}"
            for line in sorted(allowed - leaking.keys())
        ]
    assert not problems, "\n".join(problems) + "\n\n" + any_run.report()
