"""scripts/mutation_tests.py's pure parts: the lines a mutant changed, which lines run only
inside a function, and which tests a mutant runs."""
import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "mutation_tests.py"
_spec = importlib.util.spec_from_file_location("mutation_tests", SCRIPT)
mutation_tests = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(mutation_tests)

SOURCE = '''\
import functools
LIMIT = 3


@functools.lru_cache(maxsize=1)
def cached():
    return LIMIT + 1


def scale(value,
          factor=2 * LIMIT):
    doubled = value * factor
    return doubled


class Box:
    size = LIMIT

    def area(self) -> int: return self.size ** 2


_seen = {}


def remember(key):
    value = key * 2
    _seen[key] = value
    return value
'''


def test_changed_lines_are_numbered_in_the_unmutated_source():
    mutated = SOURCE.replace("value * factor", "value / factor")
    assert mutation_tests.changed_lines(SOURCE, mutated) == {12}
    two = mutated.replace("LIMIT + 1", "LIMIT - 1")
    assert mutation_tests.changed_lines(SOURCE, two) == {7, 12}


def test_no_change_or_an_inserted_line_is_unclear():
    assert mutation_tests.changed_lines(SOURCE, SOURCE) is None
    assert mutation_tests.changed_lines(SOURCE, SOURCE.replace("    return doubled\n", "    pass\n    return doubled\n")) is None


def test_function_bodies_leave_out_headers_class_bodies_and_kept_results():
    body = mutation_tests.function_body_lines(SOURCE)
    # not the multi-line def (10, 11), the one-line method (19), the cached function (7),
    # nor the one filling a module-level dict (26-28)
    assert body == {12, 13}


def test_module_state_is_what_the_module_changes_after_import():
    assert mutation_tests.module_state(mutation_tests.ast.parse(SOURCE)) == {"_seen"}


PLAN = {"order": ["t::a", "t::b", "t::c", "t::d"],
        "in_tests": {"12": ["t::c", "t::a"], "13": ["t::b"], "20": ["t::d"], "21": ["t::a"], "22": ["t::a"]},
        "in_fixtures": {"21": 2},
        "outside_tests": ["22"]}
BODY = {12, 13, 20, 21, 22, 23}


def test_the_tests_that_ran_the_lines_in_their_order():
    assert mutation_tests.select_tests({12}, BODY, PLAN) == ["t::a", "t::c"]
    assert mutation_tests.select_tests({12, 13}, BODY, PLAN) == ["t::a", "t::b", "t::c"]


def test_a_line_run_by_a_fixture_adds_that_test_and_every_later_one():
    assert mutation_tests.select_tests({21}, BODY, PLAN) == ["t::a", "t::c", "t::d"]


def test_the_whole_list_where_a_selection_could_miss_a_kill():
    assert mutation_tests.select_tests({10}, BODY, PLAN) is None        # outside a function body
    assert mutation_tests.select_tests({12, 10}, BODY, PLAN) is None
    assert mutation_tests.select_tests({23}, BODY, PLAN) is None        # no test ran it in-process
    assert mutation_tests.select_tests({22}, BODY, PLAN) is None        # ran outside any test
    assert mutation_tests.select_tests(None, BODY, PLAN) is None        # diff unclear
