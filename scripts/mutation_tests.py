"""The tests to run against one mutant: those that ran the mutated lines (scripts/mutation.py).

    python scripts/mutation_tests.py record   # in a copy of the tree: PLAN's tests under coverage
    python scripts/mutation_tests.py run      # cosmic-ray's test command: the covering tests

Both read PLAN (written by scripts/mutation.py in the tree copy): the module, its
unmutated source and the pytest arguments of its whole test list. `record` runs that list
once under coverage, one context per test, and adds to PLAN which tests ran each line of
the module. `run` compares the module (mutated in place by cosmic-ray) with the unmutated
source and runs pytest on the tests that ran the changed lines, in their recorded order,
or on the whole list where a selection could leave out a test that the mutant fails:
  - a changed line outside a function body (runs at import: every test depends on it);
  - a changed line that no test ran in-process (it may run in a subprocess), or that ran
    outside any test (collection, conftest hooks) or in a fixture's tear-down (a session
    fixture's runs after the last test, whichever set it up);
  - a changed line in a cached function or one using module state that the module
    changes (a later test may use a result kept there without running the line);
  - a diff that is not a plain change of lines.
A line run by a fixture's set-up adds that test and every later one: a module or
session fixture's result is used by later tests that do not run the line.
The exit status is pytest's (0: the mutant survived, else killed).
"""
from __future__ import annotations

import ast
import difflib
import importlib
import importlib.metadata
import json
import os
import random
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
from pathlib import Path
from typing import NoReturn

from pluggy import HookimplMarker

hookimpl = HookimplMarker("pytest")     # pytest.hookimpl, without importing pytest here
PLAN = Path("mutation-plan.json")
SOCKET = Path("mutation.sock")      # the warm server's (`serve`)
CACHE_DECORATORS = {"lru_cache", "cache", "cached_property"}
MUTATING_METHODS = {"append", "extend", "insert", "add", "update", "setdefault", "pop", "popitem", "remove",
                    "discard", "clear", "move_to_end", "appendleft", "popleft"}
NO_TESTS_COLLECTED = 5      # pytest's exit status
NOT_PRELOADED = {"qgis", "PyQt5", "pytest_qgis", "coverage"}


def changed_lines(pristine: str, mutated: str) -> set[int] | None:
    """Line numbers (in `pristine`) of the lines the mutant changed; None when the diff is
    not a change of existing lines (no change, or lines only inserted)."""
    matcher = difflib.SequenceMatcher(None, pristine.splitlines(), mutated.splitlines(), autojunk=False)
    changed = set()
    for tag, first, last, _, _ in matcher.get_opcodes():
        if tag == "equal":
            continue
        if first == last:       # an insertion: no pristine line to look up
            return None
        changed.update(range(first + 1, last + 1))
    return changed or None


def _decorator_name(node: ast.expr) -> str:
    node = node.func if isinstance(node, ast.Call) else node
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def module_state(tree: ast.Module) -> set[str]:
    """Module-level names whose object the module changes after import (`global`, item or
    attribute assignment, a mutating method): caches and the like, kept between tests."""
    assigned = {target.id for statement in tree.body if isinstance(statement, ast.Assign | ast.AnnAssign)
                for target in (statement.targets if isinstance(statement, ast.Assign) else [statement.target])
                if isinstance(target, ast.Name)}
    changed = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Global):
            changed.update(node.names)
        elif isinstance(node, ast.Subscript | ast.Attribute) and isinstance(node.ctx, ast.Store | ast.Del):
            changed.add(getattr(node.value, "id", ""))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MUTATING_METHODS:
            changed.add(getattr(node.func.value, "id", ""))
    return assigned & changed


def function_body_lines(source: str) -> set[int]:
    """Lines that run only when a function is called, not at import: a function's body
    after its `def` header (decorators, defaults and annotations run at import). Left
    out: the bodies of functions whose results may outlive a test, cached ones and those
    using module state (a later test may use such a result without running the line)."""
    tree = ast.parse(source)
    state = module_state(tree)
    body = set()
    kept_between_tests = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        header = [*node.decorator_list, *ast.walk(node.args)] + ([node.returns] if node.returns else [])
        header_end = max([node.lineno] + [n.end_lineno for n in header if hasattr(n, "end_lineno")])
        lines = set(range(header_end + 1, node.end_lineno + 1))
        if (any(_decorator_name(d) in CACHE_DECORATORS for d in node.decorator_list)
                or any(isinstance(n, ast.Name) and n.id in state for n in ast.walk(node))):
            kept_between_tests.update(lines)
        body.update(lines)
    return body - kept_between_tests


def select_tests(changed: set[int] | None, body: set[int], plan: dict) -> list[str] | None:
    """The node ids to run, in their recorded order; None for the whole test list."""
    if not changed or not changed <= body:
        return None
    order = plan["order"]
    selected = set()
    for line in map(str, changed):
        if line in plan["outside_tests"]:
            return None
        if line not in plan["in_tests"] and line not in plan["in_fixtures"]:
            return None
        selected.update(plan["in_tests"].get(line, []))
        if line in plan["in_fixtures"]:
            selected.update(order[plan["in_fixtures"][line]:])
    return [test for test in order if test in selected]


def pytest_status(arguments: list[str]) -> int:
    """pytest's exit status on `arguments`: in a child of the warm server where one
    answers, else in a new Python."""
    status = warm_pytest_status(arguments) if SOCKET.exists() else None
    if status is None:
        status = subprocess.run([sys.executable, "-m", "pytest", *arguments]).returncode
    return status


def warm_pytest_status(arguments: list[str]) -> int | None:
    """Ask the server (`serve`) to run pytest in a forked child that writes to this
    process's stdout and stderr; None if it could not (then the caller runs it cold).
    If this process is killed (a timeout), the connection closes and the child's whole
    process group is killed."""
    message = json.dumps({"arguments": arguments, "environ": dict(os.environ)}).encode() + b"\n"
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.connect(str(SOCKET))
            socket.send_fds(connection, [message], [sys.stdout.fileno(), sys.stderr.fileno()])
            answer = connection.makefile("rb").readline()
    except OSError:
        return None
    return int(answer) if answer.strip().isdigit() else None


def run() -> int:
    plan = json.loads(PLAN.read_text())
    selected = select_tests(changed_lines(plan["pristine"], Path(plan["module"]).read_text()),
                            function_body_lines(plan["pristine"]), plan)
    if selected is None:
        return pytest_status(plan["options"] + plan["tests"])
    print(f"mutation_tests: {len(selected)} of {len(plan['order'])} tests ran the changed lines", flush=True)
    status = pytest_status(plan["options"] + selected)
    # Every selected node id was collected in the recorded run: none can go missing.
    assert status != NO_TESTS_COLLECTED, f"no tests collected of {selected}"
    return status


def third_party_packages() -> list[str]:
    """The top-level packages imported so far from the environment's site-packages, in
    the order they were first imported, less QGIS and Qt (no QGIS application may start
    before the fork), coverage (the recording's own) and pytest plugins (pytest rewrites
    their asserts when it loads them)."""
    site_packages = tuple(sysconfig.get_path(key) + os.sep for key in ("purelib", "platlib"))
    plugins = {package for package, names in importlib.metadata.packages_distributions().items()
               if any(entry.group == "pytest11" for name in names
                      for entry in importlib.metadata.distribution(name).entry_points)}
    kept = {}
    for name in list(sys.modules):
        package = name.partition(".")[0]
        origin = getattr(sys.modules.get(package), "__file__", None) or ""
        if package not in NOT_PRELOADED | plugins and origin.startswith(site_packages):
            kept[package] = None
    return list(kept)


class TestContexts:
    """A pytest plugin naming coverage's context after the test and phase running, and
    keeping the order the tests ran in."""

    def __init__(self, coverage) -> None:
        self.coverage = coverage
        self.order: list[str] = []

    def _phase(self, item, phase: str):
        self.coverage.switch_context(f"{item.nodeid}|{phase}")
        try:
            return (yield)
        finally:
            self.coverage.switch_context("")

    @hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item):
        self.order.append(item.nodeid)
        return (yield from self._phase(item, "setup"))

    @hookimpl(wrapper=True)
    def pytest_runtest_call(self, item):
        return (yield from self._phase(item, "call"))

    @hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item):
        return (yield from self._phase(item, "teardown"))


def record() -> int:
    """Run the whole test list under coverage and add to PLAN which tests ran each line."""
    import coverage
    import pytest

    plan = json.loads(PLAN.read_text())
    module = os.path.realpath(plan["module"])
    sys.path[0] = os.getcwd()       # as `python -m pytest` has it
    measure = coverage.Coverage(data_file=None, include=[module], config_file=False)
    contexts = TestContexts(measure)
    measure.start()
    try:
        status = pytest.main([*plan["options"], *plan["tests"]], plugins=[contexts])
    finally:
        measure.stop()
    if status != 0:
        return int(status)
    in_tests: dict[str, list[str]] = {}
    in_fixtures: dict[str, int] = {}
    outside_tests = []      # and in tear-downs: a session fixture's runs after the last test
    position = {test: i for i, test in enumerate(contexts.order)}
    for line, names in measure.get_data().contexts_by_lineno(module).items():
        for name in names:
            test, _, phase = name.rpartition("|")
            if not test or phase == "teardown":
                outside_tests.append(str(line))
            elif phase == "call":
                in_tests.setdefault(str(line), []).append(test)
            else:
                in_fixtures[str(line)] = min(position[test], in_fixtures.get(str(line), len(position)))
    plan.update(order=contexts.order, in_tests=in_tests, in_fixtures=in_fixtures, outside_tests=outside_tests,
                preload=third_party_packages())
    PLAN.write_text(json.dumps(plan, indent=1))
    # Every node id must be selectable on its own: one that pytest cannot find would read
    # as a kill.
    collected = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", *plan["options"],
                                *contexts.order], capture_output=True, text=True)
    found = [line for line in collected.stdout.splitlines() if "::" in line]
    if collected.returncode != 0 or found != contexts.order:
        print(f"mutation_tests: the recorded node ids do not collect as they ran:\n{collected.stdout[-3000:]}")
        return 1
    return 0


def serve() -> NoReturn:
    """Import the third-party packages the unmutated tests imported (recorded in PLAN),
    then fork a child for each connection on SOCKET to run pytest: a mutant's run starts
    without paying for importing torch and the like. The module under test and the
    tests themselves are imported in the child, as in a new Python."""
    plan = json.loads(PLAN.read_text())
    sys.path[0] = os.getcwd()       # as `python -m pytest` has it
    for name in plan["preload"]:
        try:
            importlib.import_module(name)
        except Exception:       # noqa: BLE001 - then the child imports it, as a new Python would
            pass
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(SOCKET))
        server.listen()
        print("ready", flush=True)
        while True:
            connection, _ = server.accept()
            if os.fork() == 0:
                server.close()
                _run_child(connection)
            connection.close()
            while True:         # reap the children that have ended
                try:
                    if os.waitpid(-1, os.WNOHANG)[0] == 0:
                        break
                except ChildProcessError:
                    break


def _run_child(connection: socket.socket) -> NoReturn:
    message, descriptors, _, _ = socket.recv_fds(connection, 1 << 16, 2)
    while not message.endswith(b"\n"):
        message += connection.recv(1 << 16)
    request = json.loads(message)
    os.dup2(descriptors[0], 1)
    os.dup2(descriptors[1], 2)
    os.setpgid(0, 0)
    os.environ.clear()
    os.environ.update(request["environ"])
    sys.dont_write_bytecode = bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
    sys.argv = ["pytest", *request["arguments"]]
    random.seed()               # a new Python's seed, not the server's shared by every child
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()

    def kill_when_client_goes() -> None:
        connection.recv(1)      # returns when the client closed the connection or died
        os.killpg(0, signal.SIGKILL)

    threading.Thread(target=kill_when_client_goes, daemon=True).start()
    try:
        import pytest

        status = int(pytest.main(request["arguments"]))
        sys.stdout.flush()
        sys.stderr.flush()
        connection.sendall(f"{status}\n".encode())
    finally:
        os._exit(0)         # never back into the server's loop; no status sent: the client runs it cold


if __name__ == "__main__":
    sys.exit({"record": record, "run": run, "serve": serve}[sys.argv[1]]())
