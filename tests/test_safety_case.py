"""docs/safety-case.md stays honest: every hazard is complete and names only evidence that exists.

The hazard log's format (its introduction says the same to its readers):

    ### H-01 Missed risk: ...            one heading per hazard, ids unique
    - **Hazard:** ...                    then the fields of FIELDS, each once, none empty
      ...                                (a field's text runs until the next field)
    - **Mitigations:**
      1. what is done
         *Shown by:* `tests/x.py::test_y`; story "a story in tests/stories"; command `make bench`
      2. what is done
         *Not tested:* why (e.g. it is an organisational measure)

Checked here, without importing or running anything: a pytest node's file exists and defines
that test (read with ast; `Class::method` and `[parameters]` allowed); a story's name is in
tests/stories/*.yml; a command's script, `scrollcheck` sub-command or make target exists, and so
does every repository path it names. Severities, likelihoods and risk ratings follow the matrix
below (the one the document's introduction publishes); residual risk is never above the initial
one. Every hazard has at least one mitigation shown by a test; the hazards REQUIRED names are all
there. Each problem names the hazard and the line.
"""

from __future__ import annotations

import ast
import re
import shlex
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Set, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
SAFETY_CASE = ROOT / "docs" / "safety-case.md"

FIELDS = (
    "Hazard",
    "Causes",
    "Effect on the young person",
    "Initial severity",
    "Initial likelihood",
    "Initial risk",
    "Mitigations",
    "Residual severity",
    "Residual likelihood",
    "Residual risk",
    "Open actions",
)
SEVERITIES = ("Minor", "Significant", "Considerable", "Major", "Catastrophic")
LIKELIHOODS = ("Very low", "Low", "Medium", "High", "Very high")
# Risk rating by likelihood (rows) and severity (columns, as SEVERITIES): the 5 x 5 matrix used
# with DCB0129, as published in the document's introduction.
MATRIX: Dict[str, Tuple[int, ...]] = {
    "Very high": (3, 4, 4, 5, 5),
    "High": (2, 3, 3, 4, 5),
    "Medium": (2, 2, 3, 3, 4),
    "Low": (1, 2, 2, 3, 4),
    "Very low": (1, 1, 2, 2, 3),
}
# Hazards the log must cover (issue 12): what to call it -> a pattern one hazard's title matches.
REQUIRED = {
    "missed risk": r"\bmissed risk\b",
    "late crisis reply": r"\blate crisis reply\b",
    "wrong country's numbers": r"\bwrong country",
    "posing as a therapist or a human": r"\btherapist\b",
    "diagnostic language": r"\bdiagnos",
    "data leak": r"\bdata leak\b",
    "re-identification": r"\bre-identification\b",
    "erasure failure": r"\berasure failure\b",
    "service down": r"\bservice down\b",
    "overload": r"\boverload\b",
    "bad content edits by a maintainer": r"\bcontent edits?\b",
    "wrong language": r"\bwrong language\b",
    "minors' consent": r"\bconsent\b",
    "stale help numbers": r"\bstale\b",
}
INTRO_HEADINGS = ("Scope and intended use", "Clinical safety officer", "Risk matrix")

HAZARD_HEADING = re.compile(r"^### (H-\d{2,3}) (\S.*)$")
ANY_HEADING = re.compile(r"^#{1,3} ")
FIELD_LINE = re.compile(r"^- \*\*([^*]+?):\*\*\s*(.*)$")
MITIGATION_ITEM = re.compile(r"^ {2}(\d+)\. (.*)$")
SHOWN_BY = "*Shown by:*"
NOT_TESTED = "*Not tested:*"
NODE = re.compile(r"`(tests/[^`\s]+?\.py)::([^`\s]+)`")
STORY = re.compile(r'\bstory "([^"]+)"')
COMMAND = re.compile(r"\bcommand `([^`]+)`")


@dataclass
class Hazard:
    id: str
    title: str
    line: int
    fields: Dict[str, Tuple[int, List[str]]] = field(
        default_factory=dict
    )  # name -> (line, text lines)

    @property
    def name(self) -> str:
        return f"{self.id} {self.title}"


# --- reading the document -------------------------------------------------------------------------


def parse(text: str) -> Tuple[List[Hazard], List[str], List[Tuple[int, str]]]:
    """Hazards, the document's level-2 headings, and problems of form (line, message)."""
    hazards: List[Hazard] = []
    headings: List[str] = []
    problems: List[Tuple[int, str]] = []
    current: Optional[Hazard] = None
    open_field: Optional[str] = None
    for number, line in enumerate(text.splitlines(), start=1):
        heading = HAZARD_HEADING.match(line)
        if heading:
            current, open_field = Hazard(heading.group(1), heading.group(2).strip(), number), None
            hazards.append(current)
            continue
        if ANY_HEADING.match(line):
            if line.startswith("## "):
                headings.append(line[3:].strip())
            if line.startswith("### H-"):
                problems.append(
                    (number, f"a hazard heading must read '### H-NN Title', not {line!r}")
                )
            current, open_field = None, None
            continue
        if current is None:
            continue
        match = FIELD_LINE.match(line)
        if match:
            name = match.group(1).strip()
            if name not in FIELDS:
                problems.append(
                    (
                        number,
                        f"{current.name}: unknown field {name!r} (the fields are: {', '.join(FIELDS)})",
                    )
                )
                open_field = None
                continue
            if name in current.fields:
                problems.append((number, f"{current.name}: field {name!r} appears twice"))
            current.fields[name] = (number, [match.group(2)])
            open_field = name
        elif open_field is not None:
            current.fields[open_field][1].append(line)
    return hazards, headings, problems


def mitigations(lines: Sequence[str], first_line: int) -> List[List[Tuple[int, str]]]:
    """The numbered mitigations of a Mitigations field, each as its (line number, text) lines."""
    items: List[List[Tuple[int, str]]] = []
    for offset, line in enumerate(lines):
        match = MITIGATION_ITEM.match(line)
        if match:
            items.append([(first_line + offset, match.group(2))])
        elif items and line.strip():
            items[-1].append((first_line + offset, line.strip()))
    return items


# --- does the evidence exist? ----------------------------------------------------------------------


@lru_cache(maxsize=None)
def _definitions(path: Path) -> Dict[str, Set[str]]:
    """Top-level functions and classes of a test file; a class maps to its methods."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: Dict[str, Set[str]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found[node.name] = set()
        elif isinstance(node, ast.ClassDef):
            found[node.name] = {
                n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            }
    return found


def node_problem(root: Path, file: str, name: str) -> Optional[str]:
    path = root / file
    if not path.is_file():
        return f"{file} does not exist"
    parts = re.sub(r"\[.*\]$", "", name).split("::")
    definitions = _definitions(path)
    if len(parts) == 1:
        test = parts[0]
        if not test.startswith("test"):
            return f"{test} is not a test name (pytest collects test_* functions)"
        return (
            None
            if test in definitions and not definitions[test]
            else f"no test function {test} in {file}"
        )
    if len(parts) == 2:
        cls, method = parts
        if cls not in definitions:
            return f"no class {cls} in {file}"
        return (
            None
            if method in definitions[cls] and method.startswith("test")
            else f"no test {method} in {cls} in {file}"
        )
    return f"cannot read the node id {file}::{name}"


@lru_cache(maxsize=None)
def story_names(root: Path) -> Set[str]:
    names: Set[str] = set()
    for path in sorted((root / "tests" / "stories").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        names.update(
            str(step["story"])
            for step in data.get("stories") or []
            if isinstance(step, dict) and "story" in step
        )
    return names


@lru_cache(maxsize=None)
def scrollcheck_commands(root: Path) -> Set[str]:
    tree = ast.parse((root / "bot" / "cli.py").read_text(encoding="utf-8"))
    for node in tree.body:
        target = (
            node.target
            if isinstance(node, ast.AnnAssign)
            else (node.targets[0] if isinstance(node, ast.Assign) else None)
        )
        if (
            isinstance(target, ast.Name)
            and target.id == "COMMANDS"
            and isinstance(node.value, ast.Dict)
        ):
            return {key.value for key in node.value.keys if isinstance(key, ast.Constant)}
    return set()


@lru_cache(maxsize=None)
def make_targets(root: Path) -> Set[str]:
    text = (root / "Makefile").read_text(encoding="utf-8")
    return {m.group(1) for m in re.finditer(r"^([A-Za-z][\w-]*):", text, re.M)}


def command_problem(root: Path, command: str) -> Optional[str]:
    try:
        words = shlex.split(command)
    except ValueError as error:
        return f"cannot read the command `{command}`: {error}"
    if not words:
        return "an empty command"
    program = words[0].rsplit("/", 1)[-1]
    if program == "make":
        missing = [
            w
            for w in words[1:]
            if not w.startswith("-") and "=" not in w and w not in make_targets(root)
        ]
        return f"no make target {', '.join(missing)}" if missing else None
    if program == "scrollcheck":
        if len(words) < 2 or words[1] not in scrollcheck_commands(root):
            return (
                f"no scrollcheck command {words[1] if len(words) > 1 else '(none)'!r} in bot/cli.py"
            )
        arguments = words[2:]
    elif program.startswith("python"):
        scripts = [w for w in words[1:] if w.endswith(".py")]
        if not scripts:
            return f"no script in the command `{command}`"
        arguments = words[1:]
    else:
        return f"cannot check the command `{command}` (use make, scrollcheck or python SCRIPT)"
    for word in arguments:
        if (
            "/" in word
            and not word.startswith(("-", "/"))
            and re.search(r"\.\w+$", word)
            and not (root / word).exists()
        ):
            return f"{word} does not exist"
    return None


def evidence_problems(root: Path, text: str) -> Tuple[int, List[str]]:
    """How many pieces of evidence `text` names, and what is wrong with them."""
    problems: List[str] = []
    count = 0
    for match in NODE.finditer(text):
        count += 1
        problem = node_problem(root, match.group(1), match.group(2))
        if problem:
            problems.append(
                f"names {match.group(1)}::{match.group(2)}, which no longer exists ({problem})"
            )
    for match in STORY.finditer(text):
        count += 1
        if match.group(1) not in story_names(root):
            problems.append(f'names story "{match.group(1)}", which is not in tests/stories/*.yml')
    for match in COMMAND.finditer(text):
        count += 1
        problem = command_problem(root, match.group(1))
        if problem:
            problems.append(f"names command `{match.group(1)}`: {problem}")
    return count, problems


# --- the checks -------------------------------------------------------------------------------------


def _level(
    hazard: Hazard, name: str, allowed: Sequence[str], where: str, problems: List[str]
) -> Optional[str]:
    line, lines = hazard.fields[name]
    value = lines[0].strip().rstrip(".")
    if value not in allowed:
        problems.append(
            f"{where}:{line}: {hazard.name}: {name} is {value!r}, not one of {', '.join(allowed)}"
        )
        return None
    return value


def _rating(hazard: Hazard, prefix: str, where: str, problems: List[str]) -> Optional[int]:
    severity = _level(hazard, f"{prefix} severity", SEVERITIES, where, problems)
    likelihood = _level(hazard, f"{prefix} likelihood", LIKELIHOODS, where, problems)
    line, lines = hazard.fields[f"{prefix} risk"]
    stated = re.match(r"\s*(\d)\b", lines[0])
    if not stated:
        problems.append(
            f"{where}:{line}: {hazard.name}: {prefix} risk must start with its rating (1-5)"
        )
        return None
    rating = int(stated.group(1))
    if severity and likelihood:
        expected = MATRIX[likelihood][SEVERITIES.index(severity)]
        if rating != expected:
            problems.append(
                f"{where}:{line}: {hazard.name}: {prefix} risk is {rating}, but {severity} and "
                f"{likelihood} give {expected} in the matrix"
            )
    return rating


SUMMARY_ROW = re.compile(r"^\| (H-\d{2,3}) \|[^|]*\| \**(\d)\** \| \**(\d)\** \|\s*$")


def _summary_agrees(
    text: str,
    hazard: Hazard,
    initial: Optional[int],
    residual: Optional[int],
    where: str,
    problems: List[str],
) -> None:
    """The summary table, when there is one, gives each hazard's ratings as the hazard does."""
    rows = {
        m.group(1): (number, int(m.group(2)), int(m.group(3)))
        for number, line in enumerate(text.splitlines(), start=1)
        if (m := SUMMARY_ROW.match(line))
    }
    if not rows:
        return
    if hazard.id not in rows:
        problems.append(f"{where}:{hazard.line}: {hazard.name}: not in the summary table")
    elif rows[hazard.id][1:] != (initial, residual):
        line, *summary = rows[hazard.id]
        problems.append(
            f"{where}:{line}: {hazard.name}: the summary says {summary[0]} -> {summary[1]}, "
            f"the hazard {initial} -> {residual}"
        )


def check(text: str, root: Path = ROOT, where: str = "docs/safety-case.md") -> List[str]:
    """Every problem of the safety case, as 'file:line: hazard: what is wrong'."""
    hazards, headings, form = parse(text)
    problems = [f"{where}:{line}: {message}" for line, message in form]
    for heading in INTRO_HEADINGS:
        if not any(h.lower().startswith(heading.lower()) for h in headings):
            problems.append(f"{where}: the introduction has no '## {heading}' section")
    seen: Dict[str, int] = {}
    for hazard in hazards:
        if hazard.id in seen:
            problems.append(
                f"{where}:{hazard.line}: {hazard.id} is used twice (also line {seen[hazard.id]})"
            )
        seen.setdefault(hazard.id, hazard.line)
        missing = [name for name in FIELDS if name not in hazard.fields]
        if missing:
            problems.append(
                f"{where}:{hazard.line}: {hazard.name}: missing field(s) {', '.join(missing)}"
            )
        for name, (line, lines) in hazard.fields.items():
            if not "".join(lines).strip():
                problems.append(f"{where}:{line}: {hazard.name}: {name} is empty")
        if missing:
            continue
        initial = _rating(hazard, "Initial", where, problems)
        residual = _rating(hazard, "Residual", where, problems)
        if initial is not None and residual is not None and residual > initial:
            problems.append(
                f"{where}:{hazard.fields['Residual risk'][0]}: {hazard.name}: residual risk {residual} "
                f"is above the initial {initial}"
            )
        line, lines = hazard.fields["Mitigations"]
        items = mitigations(lines, line)
        if not items:
            problems.append(f"{where}:{line}: {hazard.name}: no numbered mitigation")
        tested = 0
        for item_lines in items:
            item_line, item = item_lines[0][0], "\n".join(content for _, content in item_lines)
            count = 0
            for number, content in item_lines:  # a problem is named on its own line
                found, wrong = evidence_problems(root, content)
                count += found
                problems += [f"{where}:{number}: {hazard.name}: {message}" for message in wrong]
            if SHOWN_BY in item and count:
                tested += 1
            elif SHOWN_BY in item:
                problems.append(
                    f"{where}:{item_line}: {hazard.name}: '{SHOWN_BY}' names no test, story or command"
                )
            elif NOT_TESTED not in item:
                problems.append(
                    f"{where}:{item_line}: {hazard.name}: a mitigation needs '{SHOWN_BY}' or '{NOT_TESTED}'"
                )
        if items and not tested:
            problems.append(f"{where}:{line}: {hazard.name}: no mitigation is shown by a test")
        _summary_agrees(text, hazard, initial, residual, where, problems)
    titles = [hazard.title.lower() for hazard in hazards]
    for required, pattern in REQUIRED.items():
        if not any(re.search(pattern, title) for title in titles):
            problems.append(
                f"{where}: no hazard covers {required} (a hazard title matching /{pattern}/)"
            )
    return problems


# --- the tests --------------------------------------------------------------------------------------


def test_the_safety_case_is_complete_and_names_only_evidence_that_exists() -> None:
    problems = check(SAFETY_CASE.read_text(encoding="utf-8"))
    assert not problems, "docs/safety-case.md:\n" + "\n".join(problems)


def test_the_safety_case_names_real_tests_stories_and_commands() -> None:
    """The check above would pass an empty evidence list: make sure the real document has plenty."""
    hazards, _, _ = parse(SAFETY_CASE.read_text(encoding="utf-8"))
    nodes = stories = commands = 0
    for hazard in hazards:
        text = "\n".join(hazard.fields["Mitigations"][1])
        nodes += len(NODE.findall(text))
        stories += len(STORY.findall(text))
        commands += len(COMMAND.findall(text))
    assert (
        len(hazards) >= len(REQUIRED)
        and nodes >= 3 * len(hazards)
        and stories >= 5
        and commands >= 3
    )


BROKEN = """# Safety case
## Scope and intended use
## Risk matrix

| id | hazard | initial | residual |
|---|---|---|---|
| H-01 | Missed risk | 5 | **4** |

### H-01 Missed risk: a risk message gets no crisis reply
- **Hazard:** a risk message is not recognised.
- **Causes:** slang.
- **Effect on the young person:** no help.
- **Initial severity:** Catastrophic
- **Initial likelihood:** High
- **Initial risk:** 5 (unacceptable)
- **Mitigations:**
  1. The detector reads every message.
     *Shown by:* `tests/test_safety_blind.py::test_the_shipped_detector_does_not_regress`; `tests/test_safety_blind.py::test_a_test_that_was_renamed`
  2. Stories.
     *Shown by:* story "risk as the very first message"; story "a story nobody wrote"
  3. A benchmark.
     *Shown by:* command `.venv/bin/python benchmarks/no_such_benchmark.py`; command `make no-such-target`
  4. A review.
- **Residual severity:** Catastrophic
- **Residual likelihood:** Low
- **Residual risk:** 3 (undesirable)
- **Open actions:** none.

### H-02 Late crisis reply
- **Hazard:** slow.
- **Causes:** load.
- **Initial severity:** Major
- **Initial likelihood:** Medium
- **Initial risk:** 3
- **Mitigations:**
  1. Fast path.
     *Shown by:* `tests/no_such_file.py::test_anything`
- **Residual severity:** Major
- **Residual likelihood:** Very high
- **Residual risk:** 5
- **Open actions:** none.
"""


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if fragment in line)


def test_the_check_names_hazard_and_line_of_every_problem() -> None:
    problems = check(BROKEN, where="broken.md")
    h01 = "H-01 Missed risk: a risk message gets no crisis reply"

    def at(fragment: str) -> str:
        return f"broken.md:{line_of(BROKEN, fragment)}:"

    expected = [
        f"{at('test_a_test_that_was_renamed')} {h01}: names tests/test_safety_blind.py::test_a_test_that_was_renamed, "
        "which no longer exists (no test function test_a_test_that_was_renamed in tests/test_safety_blind.py)",
        f'{at("a story nobody wrote")} {h01}: names story "a story nobody wrote", which is not in tests/stories/*.yml',
        f"{at('no_such_benchmark')} {h01}: names command `.venv/bin/python benchmarks/no_such_benchmark.py`: "
        "benchmarks/no_such_benchmark.py does not exist",
        f"{at('no-such-target')} {h01}: names command `make no-such-target`: no make target no-such-target",
        f"{at('4. A review.')} {h01}: a mitigation needs '*Shown by:*' or '*Not tested:*'",
        f"{at('**Residual risk:** 3')} {h01}: Residual risk is 3, but Catastrophic and Low give 4 in the matrix",
        f"{at('| H-01 |')} {h01}: the summary says 5 -> 4, the hazard 5 -> 3",
        f"{at('### H-02')} H-02 Late crisis reply: missing field(s) Effect on the young person",
    ]
    for line in expected:
        assert line in problems, "\n".join(problems)
    assert "broken.md: the introduction has no '## Clinical safety officer' section" in problems
    assert any(p.startswith("broken.md: no hazard covers data leak") for p in problems)
    assert not any("test_the_shipped_detector_does_not_regress" in p for p in problems), (
        "an existing test is fine"
    )
    assert not any('"risk as the very first message"' in p for p in problems), (
        "an existing story is fine"
    )
    # H-02 stopped at the missing field; with it present, its unknown file, its residual risk above
    # the initial one and its absence from the summary are named too.
    fixed = BROKEN.replace(
        "- **Causes:** load.\n", "- **Causes:** load.\n- **Effect on the young person:** waits.\n"
    )
    again = check(fixed, where="broken.md")
    for line in (
        f"broken.md:{line_of(fixed, 'no_such_file.py')}: H-02 Late crisis reply: names tests/no_such_file.py::test_anything, "
        "which no longer exists (tests/no_such_file.py does not exist)",
        f"broken.md:{line_of(fixed, '**Residual risk:** 5')}: H-02 Late crisis reply: residual risk 5 is above the initial 3",
        f"broken.md:{line_of(fixed, '### H-02')}: H-02 Late crisis reply: not in the summary table",
    ):
        assert line in again, "\n".join(again)
