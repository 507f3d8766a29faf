"""Mutation testing of the core modules, each against its own tests (cosmic-ray).

    python scripts/mutation.py                    # every module of MODULE_TESTS
    python scripts/mutation.py geo/grid.py ...    # only these (results of others are kept)

Mutants are made in a copy of the working tree under a temporary folder, never in the
checkout: cosmic-ray rewrites the module in place for each mutant, and other people may
be running the tests of the checkout meanwhile. In the copy the root conftest.py links
`geovl` to the copy, so its tests import the mutated module.

Writes bench/results/mutation.json: per module the mutants, killed, survived, timed out,
incompetent (a mutant that could not be run), score = (killed + timed out) / (mutants -
incompetent), and each survivor's file:line and operator; the score over all modules in
the file. Modules not run this time keep their previous entry.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
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
    "models/sam_segmenter.py": ["tests/models/test_sam_segmenter.py"],
    "models/device.py": ["tests/models/test_device.py"],
    "processing/retrieve.py": ["tests/qgis/test_retrieve_processing.py"],
    "processing/segment.py": ["tests/qgis/test_segment_processing.py", "tests/qgis/test_segment_bad_input.py"],
    "pipelines/retrieve.py": ["tests/models/test_retrieve_pipeline.py"],
    "pipelines/segment.py": ["tests/models/test_segment_pipeline.py"],
    "pipelines/ask.py": ["tests/models/test_ask_pipeline.py"],
    "pipelines/change.py": ["tests/models/test_change_pipeline.py"],
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


def test_command(tests: list[str]) -> str:
    plugins = [] if any(t.startswith("tests/qgis/") for t in tests) else ["-p", "no:pytest_qgis"]
    return " ".join([sys.executable, "-m", "pytest", "-x", "-q", *plugins, *tests])


def write_config(path: Path, module: str, command: str, timeout: float) -> None:
    excluded = ", ".join(json.dumps(e) for e in EXCLUDED_OPERATORS)
    path.write_text(
        "[cosmic-ray]\n"
        f"module-path = {json.dumps(module)}\n"
        f"timeout = {timeout:.0f}\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(command)}\n\n"
        "[cosmic-ray.distributor]\n"
        'name = "local"\n\n'
        "[cosmic-ray.filters.operators-filter]\n"
        f"exclude-operators = [{excluded}]\n")


def run_module(tree: Path, module: str, tests: list[str]) -> dict:
    """Mutate one module of the copy and run its tests against every mutant."""
    command = test_command(tests)
    started = time.monotonic()
    baseline = subprocess.run(command.split(), cwd=tree, capture_output=True, text=True)
    seconds = time.monotonic() - started
    if baseline.returncode != 0:
        raise SystemExit(f"The tests of {module} fail without any mutation:\n{baseline.stdout[-3000:]}")
    stem = module.replace("/", "_").removesuffix(".py")
    config, session = tree / f"{stem}.toml", tree / f"{stem}.sqlite"
    write_config(config, module, command, max(MIN_TIMEOUT_S, TIMEOUT_FACTOR * seconds))
    for step in (["cosmic-ray", "init", config, session], ["cr-filter-operators", session, config],
                 ["cosmic-ray", "exec", config, session]):
        subprocess.run([str(BIN / step[0]), *map(str, step[1:])], cwd=tree, check=True)
    dump = subprocess.run([str(BIN / "cosmic-ray"), "dump", str(session)], cwd=tree, check=True,
                          capture_output=True, text=True).stdout
    return summarise(module, tests, [json.loads(line) for line in dump.splitlines() if line.strip()],
                     time.monotonic() - started)


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
    total = {k: sum(m[k] for m in modules.values()) for k in keys}
    judged = total["mutants"] - total["incompetent"]
    total["score"] = round(100.0 * (total["killed"] + total["timed_out"]) / judged, 1) if judged else 100.0
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="modules to mutate (default: all of MODULE_TESTS)")
    args = parser.parse_args(argv)
    unknown = [m for m in args.modules if m not in MODULE_TESTS]
    if unknown:
        parser.error(f"no tests are mapped for {unknown}; add them to MODULE_TESTS in {Path(__file__).name}")
    os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", QT_QPA_PLATFORM="offscreen")
    previous = json.loads(RESULTS.read_text())["modules"] if RESULTS.exists() else {}
    with tempfile.TemporaryDirectory(prefix="geovl-mutation-") as folder:
        tree = Path(folder) / "tree"
        copy_tree(tree)
        for module in args.modules or list(MODULE_TESTS):
            print(f"--- {module}: mutating against {' '.join(MODULE_TESTS[module])}", flush=True)
            previous[module] = run_module(tree, module, MODULE_TESTS[module])
            m = previous[module]
            print(f"    {m['mutants']} mutants, {m['killed']} killed, {m['timed_out']} timed out, "
                  f"{m['survived']} survived: {m['score']} %", flush=True)
            write_results(previous)
    total = totals(previous)
    print(f"total over {len(previous)} modules: {total['mutants']} mutants, score {total['score']} %")
    return 0


def write_results(modules: dict) -> None:
    """Results file written whole after each module (temp name, then rename)."""
    ordered = {m: modules[m] for m in sorted(modules, key=lambda m: list(MODULE_TESTS).index(m)
                                              if m in MODULE_TESTS else len(MODULE_TESTS))}
    document = {"tool": "cosmic-ray 8.7.0", "operators": "nearest wrong operator per site (scripts/mutation.py)",
                "total": totals(ordered), "modules": ordered}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    temporary = RESULTS.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(document, indent=1) + "\n")
    os.replace(temporary, RESULTS)


if __name__ == "__main__":
    sys.exit(main())
