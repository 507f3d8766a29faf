"""Mutation testing of the core modules, each against its own tests (cosmic-ray).

    python scripts/mutation.py                    # every module of MODULE_TESTS
    python scripts/mutation.py geo/grid.py ...    # only these (results of others are kept)
    python scripts/mutation.py --jobs 2 ...       # two modules at a time, each in its own copy
    python scripts/mutation.py --cold ...         # each mutant's tests in a new Python

Mutants are made in a copy of the working tree under a temporary folder, never in the
checkout: cosmic-ray rewrites the module in place for each mutant, and other people may
be running the tests of the checkout meanwhile. In the copy the root conftest.py links
`geovl` to the copy, so its tests import the mutated module.

Each mutant runs only the module's tests that ran the lines it changes, as recorded under
coverage on the unmutated copy, or all of them where a selection could miss a kill
(scripts/mutation_tests.py says when). Its pytest starts in a child forked from a server
that has imported the tests' third-party packages (torch and the like) once, unless
--cold. Neither changes which mutants are killed: the timeout is still the whole list's.

Writes bench/results/mutation.json: per module the mutants, killed, survived, timed out,
incompetent (a mutant that could not be run), score = (killed + timed out) / (mutants -
incompetent), and each survivor's file:line and operator; the score over all modules in
the file. Modules not run this time keep their previous entry.
"""
from __future__ import annotations

import argparse
import ast
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "mutation.json"
BIN = Path(sys.executable).parent          # cosmic-ray's commands live beside this Python

# Each module against the tests written for it (explicit, so a run stays bounded).
# Tests under tests/qgis need the pytest-qgis plugin; others run without it (faster start).
MODULE_TESTS = {
    "geo/grid.py": ["tests/unit/test_grid.py"],
    "geo/georef.py": ["tests/unit/test_georef.py", "tests/unit/test_grid.py", "tests/unit/test_boxes.py"],
    "geo/raster.py": ["tests/unit/test_raster.py"],
    "geo/normalise.py": ["tests/unit/test_normalise.py", "tests/unit/test_raster.py"],
    "geo/vectorise.py": ["tests/unit/test_vectorise.py"],
    "geo/tile_index.py": ["tests/unit/test_tile_index.py"],
    "models/grounding.py": ["tests/models/test_grounding_parsers.py"],
    "models/sam_segmenter.py": ["tests/models/test_sam_segmenter.py", "tests/models/test_sam_architectures.py"],
    "models/device.py": ["tests/models/test_device.py"],
    "processing/retrieve.py": ["tests/qgis/test_retrieve_processing.py", "tests/qgis/test_bad_input.py"],
    "processing/segment.py": ["tests/qgis/test_segment_processing.py", "tests/qgis/test_segment_bad_input.py",
                              "tests/qgis/test_segment_labels.py"],
    "pipelines/retrieve.py": ["tests/models/test_retrieve_pipeline.py", "tests/models/test_retrieve_query.py",
                              "tests/models/test_index_damage.py", "tests/models/test_retrieve_ann.py"],
    "pipelines/segment.py": ["tests/models/test_segment_pipeline.py", "tests/models/test_segment_prior.py",
                             "tests/models/test_segment_outputs.py", "tests/models/test_segment_routing.py"],
    "pipelines/ask.py": ["tests/models/test_ask_pipeline.py", "tests/models/test_ask_limits.py"],
    "pipelines/change.py": ["tests/models/test_change_pipeline.py", "tests/unit/test_change_disk.py"],
}

# One mutant per operator, the nearest wrong one (as mutmut does), instead of cosmic-ray's
# every-operator-to-every-other (11 mutants per `+`, most of them TypeErrors): an operator
# is dropped unless it is one of these pairs.
KEPT_PAIRS = {
    "ReplaceBinaryOperator": "Add_Sub|Sub_Add|Mul_Div|Div_Mul|FloorDiv_Div|Mod_FloorDiv|Pow_Mul|"
                             "BitAnd_BitOr|BitOr_BitAnd|BitXor_BitAnd|LShift_RShift|RShift_LShift",
    "ReplaceComparisonOperator": "Eq_NotEq|NotEq_Eq|Lt_LtE|LtE_Lt|Gt_GtE|GtE_Gt|Is_IsNot|IsNot_Is",
    "ReplaceUnaryOperator": "USub_UAdd|UAdd_USub|Delete_Not",
}
EXCLUDED_OPERATORS = [f"core/{family}_(?!({pairs})$)" for family, pairs in KEPT_PAIRS.items()]

TIMEOUT_FACTOR = 5          # a mutant's tests may take this many times the unmutated run
MIN_TIMEOUT_S = 20.0


def copy_tree(destination: Path) -> None:
    """The checkout's tracked and untracked-but-not-ignored files (no .venv, no caches)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, check=True, capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


def pytest_options(tests: list[str]) -> list[str]:
    plugins = [] if any(t.startswith("tests/qgis/") for t in tests) else ["-p", "no:pytest_qgis"]
    return ["-x", "-q", *plugins]


def write_config(path: Path, module: str, command: str, timeout: float) -> None:
    excluded = ", ".join(json.dumps(e) for e in EXCLUDED_OPERATORS)
    path.write_text(
        "[cosmic-ray]\n"
        f"module-path = {json.dumps(module)}\n"
        f"timeout = {timeout:.0f}\n"
        "excluded-modules = []\n"
        # the system's timeout as well: a mutant looping forever outlived cosmic-ray's own
        # (an orphaned pytest at full CPU for 45 minutes)
        f"test-command = {json.dumps(f'timeout --kill-after=10 {timeout + 10:.0f} {command}')}\n\n"
        "[cosmic-ray.distributor]\n"
        'name = "local"\n\n'
        "[cosmic-ray.filters.operators-filter]\n"
        f"exclude-operators = [{excluded}]\n")


RUNNING: set[subprocess.Popen] = set()     # processes of the modules' runs, stopped when
STOPPING = threading.Event()                # the run is interrupted or one module fails


def run(command: list, cwd: Path, capture: bool = False) -> str:
    """Run a command to its end (output captured or shown); CalledProcessError if it fails."""
    if STOPPING.is_set():
        raise SystemExit("stopped")
    with subprocess.Popen([str(c) for c in command], cwd=cwd, text=True,
                          stdout=subprocess.PIPE if capture else None, stderr=subprocess.STDOUT) as process:
        RUNNING.add(process)
        try:
            output, _ = process.communicate()
        finally:
            RUNNING.discard(process)
    if process.returncode != 0:
        raise subprocess.CalledProcessError(process.returncode, command, output)
    return output or ""


@contextlib.contextmanager
def warm_server(tree: Path):
    """scripts/mutation_tests.py's server in the tree copy, once it has imported the
    tests' third-party packages (the mutants' runs go cold if it is not there)."""
    with subprocess.Popen([sys.executable, "scripts/mutation_tests.py", "serve"], cwd=tree, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as server:
        RUNNING.add(server)
        try:
            server.stdout.readline()        # "ready", or nothing if it failed
            yield
        finally:
            server.terminate()
            RUNNING.discard(server)


def run_module(folder: Path, module: str, tests: list[str], sample: int = 0, warm_start: bool = True) -> dict:
    """Mutate one module in a fresh copy of the tree and run its tests against every mutant
    (or against `sample` of them, drawn with the module's name as the seed); each mutant
    runs only the tests that reach its change (scripts/mutation_tests.py), started from a
    warm server unless `warm_start` is off."""
    tree = folder / module.replace("/", "_").removesuffix(".py")
    copy_tree(tree)
    started = time.monotonic()
    try:
        run([sys.executable, "-m", "pytest", *pytest_options(tests), *tests], tree, capture=True)
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"The tests of {module} fail without any mutation:\n{exc.output[-3000:]}") from exc
    unmutated_seconds = time.monotonic() - started
    # Which tests run which lines, so that each mutant runs only the tests that reach it.
    (tree / "mutation-plan.json").write_text(json.dumps(
        {"module": module, "pristine": (tree / module).read_text(), "options": pytest_options(tests), "tests": tests}))
    try:
        run([sys.executable, "scripts/mutation_tests.py", "record"], tree, capture=True)
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"Recording which tests of {module} run which lines failed:\n{exc.output[-3000:]}") from exc
    command = f"{sys.executable} scripts/mutation_tests.py run"
    config, session = tree / "mutation.toml", tree / "mutation.sqlite"
    write_config(config, module, command, max(MIN_TIMEOUT_S, TIMEOUT_FACTOR * unmutated_seconds))
    run([BIN / "cosmic-ray", "init", config, session], tree)
    run([BIN / "cr-filter-operators", session, config], tree)
    skip_annotations(session, tree / module)
    population = keep_sample(session, module, sample) if sample else None
    with warm_server(tree) if warm_start else contextlib.nullcontext():
        run([BIN / "cosmic-ray", "exec", config, session], tree)
    dump = run([BIN / "cosmic-ray", "dump", session], tree, capture=True)
    summary = summarise(module, tests, [json.loads(line) for line in dump.splitlines() if line.strip()],
                        time.monotonic() - started)
    return {**summary, "sampled_from": population} if population else summary


def annotation_spans(source: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """(start, end) (line, column) of every type annotation in a module."""
    nodes = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.arg | ast.AnnAssign) and node.annotation is not None:
            nodes.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
            nodes.append(node.returns)
    return [((n.lineno, n.col_offset), (n.end_lineno, n.end_col_offset)) for n in nodes]


def skip_annotations(session: Path, module: Path) -> None:
    """Mutants inside type annotations are never run: under `from __future__ import
    annotations` (every module mutated here) annotations are not evaluated, so such a
    mutant (`int | None` -> `int & None`) cannot change behaviour."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    source = module.read_text()
    if "from __future__ import annotations" not in source:
        return
    spans = annotation_spans(source)
    with use_db(session, WorkDB.Mode.open) as db:
        for item in list(db.pending_work_items):
            position = tuple(item.mutations[0].start_pos)
            if any(start <= position < end for start, end in spans):
                db.set_result(item.job_id, WorkResult(output="in a type annotation",
                                                      worker_outcome=WorkerOutcome.SKIPPED))


def keep_sample(session: Path, module: str, size: int) -> int:
    """Keep `size` of the pending mutants, drawn at random with the module's name as the
    seed (the same sample on every run of the same code); the others are not run.
    Returns how many there were to draw from. For modules whose tests take minutes."""
    from cosmic_ray.work_db import WorkDB, use_db
    from cosmic_ray.work_item import WorkerOutcome, WorkResult

    with use_db(session, WorkDB.Mode.open) as db:
        # by place and operator: job ids are new random ones on every run
        pending = sorted(db.pending_work_items, key=lambda item: (tuple(item.mutations[0].start_pos),
                                                                  item.mutations[0].operator_name,
                                                                  item.mutations[0].occurrence))
        kept = {item.job_id for item in random.Random(module).sample(pending, min(size, len(pending)))}
        for item in pending:
            if item.job_id not in kept:
                db.set_result(item.job_id, WorkResult(output="not in the sample", worker_outcome=WorkerOutcome.SKIPPED))
    return len(pending)


def summarise(module: str, tests: list[str], items: list, seconds: float) -> dict:
    counts = {"killed": 0, "survived": 0, "timed_out": 0, "incompetent": 0}
    survivors = []
    for item, result in items:
        if result is None or result["worker_outcome"] == "skipped":
            continue
        mutation = item["mutations"][0]
        if result["worker_outcome"] != "normal" or result["test_outcome"] == "incompetent":
            counts["incompetent"] += 1
        elif result["test_outcome"] == "survived":
            counts["survived"] += 1
            survivors.append({"where": f"{module}:{mutation['start_pos'][0]}",
                              "operator": mutation["operator_name"].removeprefix("core/"),
                              "in": mutation["definition_name"], "diff": _changed_line(result["diff"])})
        elif result["output"] == "timeout":
            counts["timed_out"] += 1
        else:
            counts["killed"] += 1
    mutants = sum(counts.values())
    judged = mutants - counts["incompetent"]
    score = 100.0 * (counts["killed"] + counts["timed_out"]) / judged if judged else 100.0
    survivors.sort(key=lambda s: (int(s["where"].rsplit(":", 1)[1]), s["operator"]))
    return {"tests": tests, "mutants": mutants, **counts, "score": round(score, 1),
            "seconds": round(seconds), "survivors": survivors}


def _changed_line(diff: str | None) -> str:
    """The mutated line of a unified diff (what the survivor looks like)."""
    added = [line[1:].strip() for line in (diff or "").splitlines() if line.startswith("+") and not line.startswith("+++")]
    return added[0] if added else ""


def totals(modules: dict) -> dict:
    keys = ("mutants", "killed", "survived", "timed_out", "incompetent")
    total = {"modules": list(modules), **{k: sum(m[k] for m in modules.values()) for k in keys}}
    judged = total["mutants"] - total["incompetent"]
    total["score"] = round(100.0 * (total["killed"] + total["timed_out"]) / judged, 1) if judged else 100.0
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="modules to mutate (default: all of MODULE_TESTS)")
    parser.add_argument("--jobs", type=int, default=1, help="modules mutated at the same time (default 1)")
    parser.add_argument("--sample", type=int, default=0,
                        help="run this many mutants of each module, drawn with a fixed seed (default: all)")
    parser.add_argument("--cold", action="store_true",
                        help="start each mutant's tests in a new Python, not from the warm server")
    args = parser.parse_args(argv)
    unknown = [m for m in args.modules if m not in MODULE_TESTS]
    if unknown:
        parser.error(f"no tests are mapped for {unknown}; add them to MODULE_TESTS in {Path(__file__).name}")
    os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", QT_QPA_PLATFORM="offscreen")
    # The copies have no runtime of their own (it is not copied): the algorithms' jobs run
    # in the checkout's, as in `make test`.
    os.environ.setdefault("GEOVL_RUNTIME", str(ROOT / ".runtime"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    modules = args.modules or list(MODULE_TESTS)
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="geovl-mutation-") as folder:
        pool = ThreadPoolExecutor(max(1, args.jobs))
        try:
            running = {pool.submit(run_module, Path(folder), m, MODULE_TESTS[m], args.sample, not args.cold): m
                       for m in modules}
            print(f"mutating {len(modules)} module(s), {args.jobs} at a time, in copies under {folder}", flush=True)
            for done in as_completed(running):
                module = running[done]
                results[module] = m = done.result()
                print(f"--- {module} against {' '.join(m['tests'])}: {m['mutants']} mutants, {m['killed']} killed, "
                      f"{m['timed_out']} timed out, {m['survived']} survived: {m['score']} % ({m['seconds']} s)",
                      flush=True)
                write_results(results)
        finally:
            # Interrupted or failed: stop the other modules' runs before the copies go.
            STOPPING.set()
            pool.shutdown(wait=False, cancel_futures=True)
            for process in list(RUNNING):
                process.terminate()
            pool.shutdown(wait=True)
    total = totals(write_results(results))
    print(f"total over the {len(total['modules'])} modules in {RESULTS.name}: {total['mutants']} mutants, "
          f"score {total['score']} %")
    return 0


def write_results(results: dict) -> dict:
    """This run's results merged into the file's (re-read each time, so a run of other
    modules at the same time keeps its own); written to a temporary name, then renamed.
    Returns the merged modules."""
    modules = json.loads(RESULTS.read_text())["modules"] if RESULTS.exists() else {}
    modules.update(results)
    ordered = {m: modules[m] for m in sorted(modules, key=lambda m: list(MODULE_TESTS).index(m)
                                              if m in MODULE_TESTS else len(MODULE_TESTS))}
    document = {"tool": "cosmic-ray 8.7.0", "operators": "nearest wrong operator per site (scripts/mutation.py)",
                "total": totals(ordered), "modules": ordered}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    temporary = RESULTS.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(document, indent=1) + "\n")
    os.replace(temporary, RESULTS)
    return ordered


if __name__ == "__main__":
    sys.exit(main())
