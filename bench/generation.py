"""``python -m bench.generation`` (or ``python -m bench --workloads generate``): code generation
on a synthetic 200-model schema.

Targets (the issue): generating the package takes under 3 s; importing all 200 generated
models takes under 0.5 s and adds under 50 MB.

The schema is built from a fixed seed, so runs are comparable: 200 models in 10 YAML files
(SPEC 8), 8-12 fields each covering every field type, timestamps and soft deletes on some,
1-3 relations each (``belongs_to`` with its referencing field, usually ``has_many`` or
``has_one`` back, some ``belongs_to_many`` through pivot tables), indexes on some.

Everything is measured in a fresh subprocess, so imports are cold:

- generate: ``jadugar_generator.generate.generate(...)`` (load, validate, render, ruff,
  write) into an empty folder; best and median of ``--runs``, plus one run timed phase by
  phase (the phases call the generator's own functions in the order ``generate`` does);
- size: files, lines and bytes emitted, the largest file;
- import: ``import bench200`` with the output folder on ``sys.path``, with ``jadugar``
  imported first (the package's own cost: the target) and without; the first import of a
  fresh package (compiling the ``.pyc`` files) apart from later ones; RSS added (psutil)
  and the tracemalloc peak;
- ``mypy --strict`` on the generated package, one cold run (no target).

When a target is missed (or with ``--profile``) the slow step runs again under cProfile and
the costliest functions are printed. The table is printed and written as the "Generation"
section of ``bench/results.md`` (that section replaced, the rest of the file kept).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MODELS = 200
SEED = 20_260_101
PACKAGE = "bench200"
FILES = 10
GENERATE_TARGET = 3.0  # seconds
IMPORT_TARGET = 0.5  # seconds
MEMORY_TARGET = 50.0  # MB
RESULTS = Path(__file__).with_name("results.md")
MB = 1024 * 1024

# ---- the synthetic schema ------------------------------------------------------------------

DOMAINS = (
    "Core",
    "Catalog",
    "Billing",
    "Shipping",
    "Support",
    "Content",
    "Analytics",
    "People",
    "Inventory",
    "Social",
)
NOUNS = (
    "Account",
    "Address",
    "Attachment",
    "Batch",
    "Category",
    "Channel",
    "Comment",
    "Contract",
    "Event",
    "Item",
    "Label",
    "Ledger",
    "Member",
    "Note",
    "Order",
    "Plan",
    "Record",
    "Report",
    "Setting",
    "Task",
)
# Field type -> names a model of that kind would plausibly have (none reserved, none a YAML
# keyword). Each model draws its fields from these without repeating a name.
FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "int": ("quantity", "position", "score", "views", "capacity", "attempts", "votes"),
    "bigint": ("external_ref", "byte_size", "sequence_no", "total_cents"),
    "smallint": ("sort_order", "level", "retries", "weekday"),
    "float": ("ratio", "weight", "latitude", "longitude", "rating"),
    "decimal": ("amount", "price", "balance", "tax_rate", "discount"),
    "str": ("name", "title", "code", "slug", "email", "label", "reference", "phone", "locale"),
    "text": ("notes", "summary", "body", "details", "instructions"),
    "bool": ("active", "archived", "verified", "featured", "public", "locked"),
    "date": ("starts_on", "ends_on", "due_on", "birthday"),
    "time": ("opens_at", "closes_at", "remind_at"),
    "datetime": ("published_at", "expires_at", "last_seen_at", "processed_at"),
    "uuid": ("public_id", "token", "external_uuid"),
    "json": ("settings", "payload", "attributes", "extra_data"),
    "bytes": ("checksum", "thumbnail", "signature"),
    "enum": ("status", "kind", "visibility", "priority"),
}
ENUM_VALUES = (
    ("draft", "active", "archived"),
    ("low", "normal", "high", "urgent"),
    ("private", "internal", "public"),
    ("pending", "running", "done", "failed", "cancelled"),
)
# How often each type is drawn (str, int, bool and datetime are the common ones).
TYPE_WEIGHTS = {
    **dict.fromkeys(("str", "int", "bool", "datetime", "enum", "text"), 3),
    **dict.fromkeys(("decimal", "date", "float", "bigint", "smallint", "json"), 2),
    **dict.fromkeys(("uuid", "time", "bytes"), 1),
}
HUBS = 3  # the first models (CoreAccount, ...) many others point at, like a users table


def snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def plural(word: str) -> str:
    if word.endswith("y") and word[-2:-1] not in tuple("aeiou"):
        return word[:-1] + "ies"
    return word + "es" if word.endswith(("s", "x", "z", "ch", "sh")) else word + "s"


@dataclass
class Model:
    name: str
    domain: str
    key_type: str
    options: dict[str, object] = field(default_factory=dict)
    fields: dict[str, dict[str, object]] = field(default_factory=dict)
    indexes: list[dict[str, object]] = field(default_factory=list)
    relations: dict[str, dict[str, object]] = field(default_factory=dict)

    def relate(self, name: str, spec: dict[str, object]) -> bool:
        if name in self.relations or name in self.fields:
            return False
        self.relations[name] = spec
        return True


def model_names(count: int) -> list[tuple[str, str]]:
    """(domain, model name) pairs: 20 nouns in each of 10 domains, numbered past 200."""
    names = []
    for i in range(count):
        domain = DOMAINS[(i // len(NOUNS)) % len(DOMAINS)]
        turn = i // (len(NOUNS) * len(DOMAINS))
        names.append((domain, f"{domain}{NOUNS[i % len(NOUNS)]}{turn + 1 if turn else ''}"))
    return names


def build_models(count: int = MODELS, seed: int = SEED) -> list[Model]:
    rng = random.Random(seed)
    models: list[Model] = []
    for i, (domain, name) in enumerate(model_names(count)):
        model = Model(name, domain, "bigint" if rng.random() < 0.15 else "int")
        model.options["description"] = f"Synthetic {domain.lower()} model {i} of the benchmark."
        if rng.random() < 0.55:
            model.options["timestamps"] = True
        if rng.random() < 0.25:
            model.options["soft_deletes"] = True
        model.fields["id"] = {"type": model.key_type, "primary_key": True, "auto_increment": True}
        models.append(model)
        _relations(rng, model, models)
        _data_fields(rng, model, total=rng.randint(8, 12))
        _indexes(rng, model)
    return models


def _relations(rng: random.Random, model: Model, earlier: list[Model]) -> None:
    """1-3 relations to earlier models (the first model only gets relations from later ones)."""
    this = snake(model.name)
    candidates = earlier[:-1]
    wanted = min(rng.choice((1, 1, 2, 2, 2, 3)), len(candidates))
    chosen: set[str] = set()
    if candidates and rng.random() < 0.05:  # a tree: parent / children
        model.fields["parent_id"] = {
            "type": model.key_type,
            "nullable": True,
            "references": {"model": model.name, "on_delete": "set_null"},
        }
        model.relate(
            "parent", {"kind": "belongs_to", "model": model.name, "foreign_key": "parent_id"}
        )
        model.relate(
            "children", {"kind": "has_many", "model": model.name, "foreign_key": "parent_id"}
        )
        wanted -= 1
    while len(chosen) < wanted:
        roll = rng.random()
        same = [m for m in candidates if m.domain == model.domain]
        pool = candidates[:HUBS] if roll < 0.2 else same if roll < 0.6 and same else candidates
        target = rng.choice(pool)
        if target.name in chosen:
            continue
        chosen.add(target.name)
        other = snake(target.name)
        if rng.random() < 0.2:
            _many_to_many(rng, model, target)
            continue
        key = f"{other}_id"
        nullable = rng.random() < 0.3
        reference: dict[str, object] = {
            "model": target.name,
            "on_delete": "set_null" if nullable else "cascade",
        }
        spec: dict[str, object] = {"type": target.key_type}
        if nullable:
            spec["nullable"] = True
        one = rng.random() < 0.1
        if one:
            spec["unique"] = True
        elif rng.random() < 0.3:
            spec["index"] = True
        model.fields[key] = {**spec, "references": reference}
        model.relate(other, {"kind": "belongs_to", "model": target.name, "foreign_key": key})
        if one:
            target.relate(this, {"kind": "has_one", "model": model.name, "foreign_key": key})
        elif rng.random() < 0.7:
            target.relate(
                plural(this), {"kind": "has_many", "model": model.name, "foreign_key": key}
            )


def _many_to_many(rng: random.Random, model: Model, target: Model) -> None:
    this, other = snake(model.name), snake(target.name)
    through = f"{this}_{plural(other)}"
    model.relate(
        plural(other),
        {
            "kind": "belongs_to_many",
            "model": target.name,
            "through": through,
            "foreign_key": f"{this}_id",
            "other_key": f"{other}_id",
        },
    )
    if rng.random() < 0.6:
        target.relate(
            plural(this),
            {
                "kind": "belongs_to_many",
                "model": model.name,
                "through": through,
                "foreign_key": f"{other}_id",
                "other_key": f"{this}_id",
            },
        )


def _data_fields(rng: random.Random, model: Model, total: int) -> None:
    types = list(TYPE_WEIGHTS)
    weights = list(TYPE_WEIGHTS.values())
    while len(model.fields) < total:
        kind = rng.choices(types, weights)[0]
        free = [n for n in FIELD_NAMES[kind] if n not in model.fields]
        if not free:
            continue
        name = rng.choice(free)
        model.fields[name] = _field(rng, kind)
    if rng.random() < 0.1:
        model.fields["secret_hash"] = {"type": "str", "max_length": 255, "hidden": True}


def _field(rng: random.Random, kind: str) -> dict[str, object]:
    spec: dict[str, object] = {"type": kind}
    nullable = rng.random() < 0.35
    if kind == "str":
        spec["max_length"] = rng.choice((20, 50, 120, 255))
        if rng.random() < 0.15:
            spec["unique"] = True
    elif kind == "decimal":
        spec["precision"], spec["scale"] = rng.choice(((10, 2), (12, 2), (8, 4)))
        if not nullable:
            spec["default"] = 0
    elif kind == "enum":
        values = rng.choice(ENUM_VALUES)
        spec["values"] = list(values)
        spec["default"] = values[0]
        nullable = False
    elif kind == "bool":
        spec["default"] = rng.random() < 0.5
        nullable = False
    elif kind in ("int", "bigint", "smallint") and not nullable and rng.random() < 0.6:
        spec["default"] = 0
    elif kind in ("date", "time", "datetime", "uuid", "json", "bytes", "text"):
        nullable = nullable or rng.random() < 0.5
    if kind in ("datetime", "uuid") and rng.random() < 0.2:
        spec["index" if kind == "datetime" else "unique"] = True
    if nullable:
        spec["nullable"] = True
    return spec


def _indexes(rng: random.Random, model: Model) -> None:
    if rng.random() >= 0.4:
        return
    columns = [n for n, s in model.fields.items() if s["type"] in ("str", "enum", "int", "bool")]
    columns = [c for c in columns if c != "id"]
    if len(columns) >= 2:
        pair = rng.sample(columns, 2)
        index: dict[str, object] = {"columns": pair}
        if rng.random() < 0.3:
            index["unique"] = True
        model.indexes.append(index)


_YAML_WORDS = {"yes", "no", "on", "off", "y", "n", "true", "false", "null"}


def _yaml(value: object) -> str:
    """A value in YAML flow style, as SPEC 8 writes fields: ``{type: str, max_length: 50}``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        plain = re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value) and value.lower() not in _YAML_WORDS
        return value if plain else json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_yaml(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no YAML for {value!r}")


def schema_text(models: Sequence[Model], seed: int) -> str:
    lines = [
        f"# Synthetic benchmark schema (bench/generation.py, seed {seed}): do not edit.",
        "models:",
    ]
    for model in models:
        lines.append(f"  {model.name}:")
        lines += [f"    {key}: {_yaml(value)}" for key, value in model.options.items()]
        lines.append("    fields:")
        lines += [f"      {name}: {_yaml(spec)}" for name, spec in model.fields.items()]
        if model.indexes:
            lines.append("    indexes:")
            lines += [f"      - {_yaml(index)}" for index in model.indexes]
        if model.relations:
            lines.append("    relations:")
            lines += [f"      {name}: {_yaml(spec)}" for name, spec in model.relations.items()]
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class SchemaStats:
    models: int
    files: int
    fields: int
    relations: int
    relations_max: int
    many_to_many: int
    types: int


def write_schema(folder: Path, count: int = MODELS, seed: int = SEED) -> SchemaStats:
    """The synthetic schema as ``FILES`` YAML files in ``folder`` (one or more domains each)."""
    models = build_models(count, seed)
    folder.mkdir(parents=True, exist_ok=True)
    per_file = -(-len(models) // FILES)
    for n in range(0, len(models), per_file):
        chunk = models[n : n + per_file]
        (folder / f"{n // per_file:02d}_{chunk[0].domain.lower()}.yaml").write_text(
            schema_text(chunk, seed)
        )
    relations = [len(m.relations) for m in models]
    return SchemaStats(
        models=len(models),
        files=len(range(0, len(models), per_file)),
        fields=sum(len(m.fields) for m in models),
        relations=sum(relations),
        relations_max=max(relations),
        many_to_many=sum(
            1 for m in models for r in m.relations.values() if r["kind"] == "belongs_to_many"
        ),
        types=len({str(s["type"]) for m in models for s in m.fields.values()}),
    )


# ---- the measurements (each in a fresh interpreter) ----------------------------------------

GENERATE_CHILD = """
import json, sys, time
from pathlib import Path
started = time.perf_counter()
from jadugar_generator.generate import generate
imported = time.perf_counter()
result = generate(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], root=Path(sys.argv[4]))
done = time.perf_counter()
print(json.dumps({"import": imported - started, "generate": done - imported,
                  "written": len(result.written)}))
"""

# generate() phase by phase, with the loader's and the writer's steps timed by wrapping the
# names those modules call (only in this child; the generator itself is not changed).
PHASES_CHILD = """
import json, sys, time
from pathlib import Path
times = {}
def timed(name, function):
    def wrapper(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            times[name] = times.get(name, 0.0) + time.perf_counter() - started
    return wrapper
started = time.perf_counter()
from jadugar_generator.schema import loader
from jadugar_generator import writer
from jadugar_generator.views import package_view
from jadugar_generator.render import environment
times["import the generator"] = time.perf_counter() - started
loader.read_file = timed("load/read YAML files", loader.read_file)
loader.validate = timed("load/validate", loader.validate)
loader.normalize = timed("load/normalize", loader.normalize)
real_ruff = writer._ruff
writer._ruff = lambda command, *args: timed("format/ruff " + command, real_ruff)(command, *args)
schemas, output, package, root = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
started = time.perf_counter()
schema = loader.load_schema(schemas)
times["load"] = time.perf_counter() - started
view = timed("views", package_view)(schema, package, root)
timed("render/compile templates", lambda: [environment().get_template(t)
      for t in ("model.py.j2", "package_init.py.j2")])()
files = timed("render/render_package", writer.render_package)(view)
times["render"] = times["render/compile templates"] + times["render/render_package"]
started = time.perf_counter()
formatted = writer.format_sources(files)
times["format"] = time.perf_counter() - started
timed("write", writer.write_package)(formatted, output / package, check=False)
print(json.dumps(times))
"""

IMPORT_CHILD = """
import gc, json, sys, time
sys.path.insert(0, sys.argv[1])
package, first, mode = sys.argv[2], sys.argv[3] == "1", sys.argv[4]
import psutil
process = psutil.Process()
if first:
    import jadugar, jadugar.models
before = set(sys.modules)
gc.collect()
rss = process.memory_info().rss
if mode == "tracemalloc":
    import tracemalloc
    tracemalloc.start()
started = time.perf_counter()
__import__(package)
elapsed = time.perf_counter() - started
result = {"seconds": elapsed, "modules": len(set(sys.modules) - before)}
if mode == "tracemalloc":
    result["current"], result["peak"] = tracemalloc.get_traced_memory()
gc.collect()
result["rss"] = process.memory_info().rss - rss
print(json.dumps(result))
"""

PROFILE_CHILD = """
import cProfile, pstats, sys
from pathlib import Path
mode, out = sys.argv[1], sys.argv[2]
if mode == "import":
    sys.path.insert(0, sys.argv[3])
    import jadugar, jadugar.models
    code = "__import__(sys.argv[4])"
else:
    from jadugar_generator.generate import generate
    code = "generate(Path(sys.argv[3]), Path(sys.argv[4]), sys.argv[5], root=Path(sys.argv[6]))"
cProfile.run(code, out)
"""


def child_env() -> dict[str, str]:
    """This environment, writing ``.pyc`` files as an application's interpreter would."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_child(code: str, *args: str, timeout: float = 600) -> tuple[Any, float]:
    """The JSON a child interpreter prints, and the child's wall time."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        env=child_env(),
        timeout=timeout,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"child process failed ({done.returncode}):\n{done.stderr[-4000:]}")
    lines = done.stdout.strip().splitlines()
    return (json.loads(lines[-1]) if lines else None), elapsed


@dataclass(frozen=True)
class Row:
    figure: str
    value: str
    target: str = ""
    passed: bool | None = None  # None: no target

    @property
    def verdict(self) -> str:
        return "" if self.passed is None else "PASS" if self.passed else "FAIL"


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    phases: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    missed: set[str] = field(default_factory=set)  # "generate", "import"

    def add(self, figure: str, value: str, target: str = "", passed: bool | None = None) -> None:
        self.rows.append(Row(figure, value, target, passed))


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure_generate(work: Path, schemas: Path, runs: int, report: Report) -> Path:
    """Time ``runs`` cold generations, each into an empty folder; the last output is kept."""
    times: list[float] = []
    walls: list[float] = []
    imports: list[float] = []
    output = work / "out"
    for n in range(runs):
        shutil.rmtree(output, ignore_errors=True)
        result, wall = run_child(GENERATE_CHILD, str(schemas), str(output), PACKAGE, str(work))
        log(f"generate run {n + 1}/{runs}: {result['generate']:.2f} s ({wall:.2f} s process)")
        times.append(result["generate"])
        imports.append(result["import"])
        walls.append(wall)
    best, median = min(times), statistics.median(times)
    if best >= GENERATE_TARGET:
        report.missed.add("generate")
    report.add(
        f"generate() (load, validate, render, ruff, write), best of {runs}",
        f"{best:.2f} s",
        f"< {GENERATE_TARGET:g} s",
        best < GENERATE_TARGET,
    )
    if runs > 1:
        report.add(
            f"generate(), median of {runs}",
            f"{median:.2f} s",
            f"< {GENERATE_TARGET:g} s",
            median < GENERATE_TARGET,
        )
    report.add(
        "whole process (interpreter, import the generator, generate), median",
        f"{statistics.median(walls):.2f} s (import {statistics.median(imports):.2f} s)",
    )
    try:
        shutil.rmtree(work / "phases", ignore_errors=True)
        phases, _ = run_child(PHASES_CHILD, str(schemas), str(work / "phases"), PACKAGE, str(work))
        report.phases = phases
    except Exception as exc:  # the breakdown uses the generator's internals: it may drift
        report.notes.append(f"- phase breakdown unavailable: {type(exc).__name__}: {exc}")
    return output


def measure_size(package_dir: Path, report: Report) -> None:
    files = sorted(package_dir.glob("*.py"))
    texts = {p.name: p.read_text() for p in files}
    lines = {name: text.count("\n") for name, text in texts.items()}
    size = sum(len(text.encode()) for text in texts.values())
    largest = max(lines, key=lambda n: lines[n])
    paths = [
        len(re.findall(r'^\s+"', body, re.M))
        for body in re.findall(
            r"^\w+Relation = Literal\[\n(.*?)^\]", "\n".join(texts.values()), re.M | re.S
        )
    ]
    report.add(
        "emitted",
        f"{len(files)} .py files, {sum(lines.values()):,} lines, {size / MB:.1f} MB",
    )
    report.add(
        "largest file",
        f"{largest}: {lines[largest]:,} lines ({len(texts[largest].encode()) / 1024:.0f} KB)",
    )
    if paths:
        report.add(
            "relation-path Literal entries (with_/load, depth 3)",
            f"{sum(paths):,} in all, max {max(paths):,}, median {statistics.median(paths):g} a model",
        )


def measure_import(output: Path, runs: int, report: Report) -> None:
    """Import the package: the first time (no ``.pyc`` yet), then ``runs`` times each with and
    without ``jadugar`` imported first; then the memory it adds."""
    shutil.rmtree(output / PACKAGE / "__pycache__", ignore_errors=True)
    first, _ = run_child(IMPORT_CHILD, str(output), PACKAGE, "1", "time")
    log(f"first import (compiling .pyc): {first['seconds']:.3f} s, {first['modules']} modules")
    own: list[float] = []
    whole: list[float] = []
    rss_own: list[float] = []
    rss_whole: list[float] = []
    for n in range(runs):
        for preload, seconds, rss in ((True, own, rss_own), (False, whole, rss_whole)):
            result, _ = run_child(
                IMPORT_CHILD, str(output), PACKAGE, "1" if preload else "0", "time"
            )
            seconds.append(result["seconds"])
            rss.append(result["rss"] / MB)
        log(f"import run {n + 1}/{runs}: package {own[-1]:.3f} s, with jadugar {whole[-1]:.3f} s")
    traced, _ = run_child(IMPORT_CHILD, str(output), PACKAGE, "1", "tracemalloc")
    best = min(own)
    memory = statistics.median(rss_own)
    if best >= IMPORT_TARGET or memory >= MEMORY_TARGET:
        report.missed.add("import")
    report.add(
        f"import {PACKAGE} (jadugar already imported), best of {runs}",
        f"{best:.3f} s (median {statistics.median(own):.3f} s)",
        f"< {IMPORT_TARGET:g} s",
        best < IMPORT_TARGET,
    )
    report.add(
        f"import {PACKAGE} from scratch (jadugar, pydantic too), best of {runs}",
        f"{min(whole):.3f} s (median {statistics.median(whole):.3f} s)",
    )
    report.add(
        "first import, compiling the .pyc files (jadugar already imported)",
        f"{first['seconds']:.3f} s",
    )
    report.add(
        "memory the package adds: RSS (jadugar already imported), median",
        f"{memory:.1f} MB",
        f"< {MEMORY_TARGET:g} MB",
        memory < MEMORY_TARGET,
    )
    report.add(
        "memory: tracemalloc after import / peak (jadugar already imported)",
        f"{traced['current'] / MB:.1f} MB / {traced['peak'] / MB:.1f} MB",
    )
    report.add("memory from scratch: RSS, median", f"{statistics.median(rss_whole):.1f} MB")


def measure_mypy(output: Path, report: Report) -> None:
    """One cold ``mypy --strict`` run over the generated package (no target)."""
    if shutil.which("mypy", path=str(Path(sys.executable).parent)) is None:
        report.add("mypy --strict", "skipped: mypy is not installed")
        return
    cache = output.parent / "mypy-cache"
    shutil.rmtree(cache, ignore_errors=True)
    command = [sys.executable, "-m", "mypy", "--strict", "--python-version", "3.11"]
    log("mypy --strict …")
    started = time.perf_counter()
    done = subprocess.run(
        [*command, "--cache-dir", str(cache), "-p", PACKAGE],
        cwd=output,
        capture_output=True,
        text=True,
        env=child_env(),
        check=False,
    )
    elapsed = time.perf_counter() - started
    last = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    report.add("mypy --strict on the package, one cold run", f"{elapsed:.1f} s: {last}")
    if done.returncode != 0:
        report.notes.append("- mypy found problems:\n\n```\n" + done.stdout[-3000:] + "```")


def profile(work: Path, schemas: Path, output: Path, which: set[str], top: int = 25) -> list[str]:
    """cProfile the missed steps in a child each; the costliest functions by cumulative time."""
    import pstats

    lines: list[str] = []
    for step in sorted(which):
        stats_file = work / f"{step}.prof"
        if step == "import":
            shutil.rmtree(output / PACKAGE / "__pycache__", ignore_errors=True)
            subprocess.run(  # write the .pyc files, so the profile is of a normal import
                [
                    sys.executable,
                    "-c",
                    f"import sys; sys.path.insert(0, {str(output)!r}); import {PACKAGE}",
                ],
                env=child_env(),
                check=True,
            )
            args = ["import", str(stats_file), str(output), PACKAGE]
        else:
            shutil.rmtree(work / "profiled", ignore_errors=True)
            args = [
                "generate",
                str(stats_file),
                str(schemas),
                str(work / "profiled"),
                PACKAGE,
                str(work),
            ]
        subprocess.run(
            [sys.executable, "-c", PROFILE_CHILD, *args], env=child_env(), check=True, timeout=900
        )
        stats = pstats.Stats(str(stats_file))
        total = stats.total_tt  # type: ignore[attr-defined]
        lines.append(f"cProfile of {step} ({total:.2f} s under the profiler), by cumulative time:")
        entries = sorted(
            stats.stats.items(),  # type: ignore[attr-defined]
            key=lambda item: item[1][3],
            reverse=True,
        )
        for (file, line, function), (_, calls, own, cumulative, _) in entries[:top]:
            where = f"{Path(file).parent.name}/{Path(file).name}:{line}" if line else file
            lines.append(
                f"  {cumulative:7.3f} s cum {own:7.3f} s own {calls:>8,} calls  {function}  {where}"
            )
    return lines


# ---- the table -----------------------------------------------------------------------------

HEADERS = ("figure", "value", "target", "result")


def phase_summary(phases: dict[str, float]) -> str:
    """``load 0.50 s (read YAML files 0.38 s, validate 0.10 s), views 0.11 s, …``."""
    parts = []
    for name, seconds in phases.items():
        if "/" in name:
            continue
        inner = [
            f"{key.split('/', 1)[1]} {value:.2f} s"
            for key, value in phases.items()
            if key.startswith(name + "/")
        ]
        parts.append(f"{name} {seconds:.2f} s" + (f" ({', '.join(inner)})" if inner else ""))
    return ", ".join(parts)


def markdown_section(title: str, report: Report, notes: list[str]) -> str:
    lines = [
        f"## {title}",
        "",
        "| " + " | ".join(HEADERS) + " |",
        "|---|---:|---:|---|",
        *(f"| {r.figure} | {r.value} | {r.target} | {r.verdict} |" for r in report.rows),
        "",
    ]
    if report.phases:
        lines += [f"generate() phase by phase (one more run): {phase_summary(report.phases)}.", ""]
    return "\n".join([*lines, *notes, *report.notes]).rstrip() + "\n"


def write_section(path: Path, title: str, section: str) -> None:
    """Replace the ``## {title}`` section of ``path`` (up to the next ``## `` heading), or
    append it; everything else in the file is kept as it is."""
    text = path.read_text() if path.exists() else ""
    heading = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.M | re.S)
    if heading.search(text):
        text = heading.sub(lambda _: section + "\n", text, count=1).rstrip() + "\n"
    else:
        text = (text.rstrip() + "\n\n" if text.strip() else "") + section
    path.write_text(text)


def print_table(title: str, report: Report) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for i, header in enumerate(HEADERS):
        table.add_column(header, justify="right" if i in (1, 2) else "left")
    for row in report.rows:
        style = "green" if row.passed else "red"
        verdict = f"[{style}]{row.verdict}[/{style}]" if row.verdict else ""
        table.add_row(row.figure, row.value, row.target, verdict)
    Console(width=None if sys.stdout.isatty() else 160).print(table)
    if report.phases:
        print(f"generate() phase by phase: {phase_summary(report.phases)}")


# ---- main ----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.generation", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--models", type=int, default=MODELS, help="models in the schema")
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the synthetic schema")
    parser.add_argument("--runs", type=int, default=3, help="timed generations")
    parser.add_argument("--import-runs", type=int, default=5, help="timed imports (each kind)")
    parser.add_argument("--quick", action="store_true", help="1 generation, 2 imports, no mypy")
    parser.add_argument("--no-mypy", action="store_true", help="skip the mypy --strict run")
    parser.add_argument("--profile", action="store_true", help="cProfile even when targets pass")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--output", type=Path, default=RESULTS, help="Markdown file to update")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    runs, import_runs = (1, 2) if args.quick else (max(1, args.runs), max(1, args.import_runs))
    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="jadugar-bench-gen-"))
    report = Report()
    profiled: list[str] = []
    try:
        schemas = work / "schemas"
        stats = write_schema(schemas, args.models, args.seed)
        log(
            f"schema: {stats.models} models, {stats.fields} fields, {stats.relations} relations in {schemas}"
        )
        report.add(
            "schema",
            f"{stats.models} models in {stats.files} YAML files: {stats.fields:,} fields "
            f"({stats.types} types), {stats.relations} relations (max {stats.relations_max} "
            f"a model, {stats.many_to_many} belongs_to_many)",
        )
        output = measure_generate(work, schemas, runs, report)
        measure_size(output / PACKAGE, report)
        measure_import(output, import_runs, report)
        if not (args.quick or args.no_mypy):
            measure_mypy(output, report)
        which = {"generate", "import"} if args.profile else report.missed
        if which:
            profiled = profile(work, schemas, output, which)
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    elapsed = time.perf_counter() - started
    title = f"Generation ({args.models} models)"
    print_table(
        f"{title}: Python {platform.python_version()}, {os.cpu_count()} CPUs, {elapsed:.0f} s",
        report,
    )
    for line in profiled:
        print(line)
    given = list(sys.argv[1:] if argv is None else argv)
    if given[-2:-1] == ["--output"] and Path(given[-1]).resolve() == RESULTS.resolve():
        del given[-2:]  # the default, as python -m bench --workloads generate passes it
    command = " ".join(["python -m bench.generation", *given])
    notes = [
        f"Seed {args.seed}; Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{elapsed:.0f} s; `{command}`, {time.strftime('%Y-%m-%d')}. Every figure comes from "
        "a fresh interpreter. Import times are with the .pyc files written unless said; "
        "RSS is the resident memory the import adds.",
    ]
    write_section(args.output, title, markdown_section(title, report, notes))
    print(f"Section '{title}' written to {args.output}")
    passed = all(row.passed is not False for row in report.rows)
    return 1 if args.check and not passed else 0


if __name__ == "__main__":
    sys.exit(main())
