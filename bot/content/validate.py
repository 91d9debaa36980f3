"""`scrollcheck validate`: check every maintainer-edited YAML file, naming file and line.

Checks: the screening content (data/screening), the safety lexicon, replies and crisis resources
(data/safety), that domain.yml has a slot, form entry and ask action for every screening item,
the NLU contract (the fixed intents exist, each with enough training examples), and that the
crisis path has its rules in data/rules/crisis.yml outside forms and in every form of domain.yml.
"""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import List, Optional

from bot import DATA_DIR, PROJECT_ROOT
from bot.content.yamlsource import ContentError, LineDict, load_yaml_with_lines

# Maintainers and tests rely on these names (issue 2, "NLU contract").
FIXED_INTENTS = (
    "greet", "goodbye", "affirm", "deny", "thank", "start_screening", "choose_comparison",
    "choose_fomo", "choose_cyberbullying", "choose_all", "answer_never", "answer_rarely",
    "answer_sometimes", "answer_often", "answer_very_often", "skip_question", "ask_bot_identity",
    "ask_why", "ask_privacy", "request_diagnosis", "request_resources", "stop", "delete_data",
    "out_of_scope",
)
MIN_EXAMPLES = 20

# The crisis path (issue 9): a risk message wins in every state. action_crisis_response says in
# `crisis_followup` what follows (actions/crisis.py FOLLOWUPS); each needs its rule everywhere.
RISK_INTENT = "risk_disclosure"
CRISIS_RESPONSE_ACTION = "action_crisis_response"
CRISIS_FOLLOWUPS = ("check", "acuity", "country", "none")


def check_screening(screening_dir: Path) -> List[ContentError]:
    from bot.screening.content import load_screening

    try:
        load_screening(screening_dir)
    except ContentError as error:
        return [error]
    return []


def check_domain_matches_screening(domain_path: Path, screening_dir: Path) -> List[ContentError]:
    from bot.screening.content import load_screening

    try:
        screening = load_screening(screening_dir)
        domain = load_yaml_with_lines(domain_path)
    except ContentError as error:
        return [error]
    errors: List[ContentError] = []
    slots = domain.get("slots") or LineDict()
    actions = domain.get("actions") or []
    form = ((domain.get("forms") or {}).get("checkin_form") or {})
    form_slots = form.get("required_slots") or []
    intents = [i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents") or []]
    for item_id in screening.item_slots:
        if item_id not in slots:
            errors.append(ContentError(domain_path, domain.line_of("slots"), f"missing slot `{item_id}` for screening item {item_id} (copy another item's slot)"))
        if item_id not in form_slots:
            errors.append(ContentError(domain_path, domain.line_of("forms"), f"checkin_form.required_slots lacks `{item_id}`"))
        if f"action_ask_{item_id}" not in actions:
            errors.append(ContentError(domain_path, domain.line_of("actions"), f"actions lacks `action_ask_{item_id}`"))
    for point in screening.scale:
        if point.intent not in intents:
            errors.append(ContentError(domain_path, domain.line_of("intents"), f"scale intent `{point.intent}` is not a domain intent"))
    for intent in FIXED_INTENTS:
        if intent not in intents:
            errors.append(ContentError(domain_path, domain.line_of("intents"), f"fixed intent `{intent}` is missing"))
    return errors


def check_nlu_examples(nlu_dir: Path) -> List[ContentError]:
    counts = {}
    first_seen = {}
    errors: List[ContentError] = []
    for path in sorted(nlu_dir.glob("*.yml")):
        try:
            data = load_yaml_with_lines(path)
        except ContentError as error:
            errors.append(error)
            continue
        for index, block in enumerate((data or {}).get("nlu") or []):
            if not isinstance(block, LineDict) or "intent" not in block:
                continue
            examples = [line for line in str(block.get("examples") or "").splitlines() if line.strip().startswith("- ")]
            if not examples:
                errors.append(ContentError(path, block.line, f"intent `{block['intent']}` has no examples"))
            counts[block["intent"]] = counts.get(block["intent"], 0) + len(examples)
            first_seen.setdefault(block["intent"], (path, block.line))
    for intent in FIXED_INTENTS:
        if counts.get(intent, 0) < MIN_EXAMPLES:
            path, line = first_seen.get(intent, (nlu_dir, 1))
            errors.append(ContentError(path, line, f"intent `{intent}` has {counts.get(intent, 0)} examples; at least {MIN_EXAMPLES} are needed"))
    return errors


def _risk_rule_followups(rule: object) -> "tuple[object, set]":
    """(the rule's active_loop condition, the crisis_followup values its steps branch on) for a
    rule that answers risk_disclosure with action_crisis_response; (None, set()) for any other."""
    if not isinstance(rule, dict):
        return None, set()
    steps = rule.get("steps") or []
    if not (len(steps) >= 2 and isinstance(steps[0], dict) and steps[0].get("intent") == RISK_INTENT
            and isinstance(steps[1], dict) and steps[1].get("action") == CRISIS_RESPONSE_ACTION):
        return None, set()
    loop = "null"  # a rule without an active_loop condition applies outside forms only
    for condition in rule.get("condition") or []:
        if isinstance(condition, dict) and "active_loop" in condition:
            loop = condition["active_loop"] or "null"
    followups = set()
    for step in steps[2:]:
        for slot in (step.get("slot_was_set") or []) if isinstance(step, dict) else []:
            if isinstance(slot, dict) and "crisis_followup" in slot:
                followups.add(str(slot["crisis_followup"]).lower())
    return loop, followups


def check_crisis_rules(domain_path: Path, rules_path: Path) -> List[ContentError]:
    """Every form in domain.yml, and the state outside forms, has a risk_disclosure rule in
    data/rules/crisis.yml for each thing that can follow the crisis reply."""
    try:
        domain = load_yaml_with_lines(domain_path)
        rules_file = load_yaml_with_lines(rules_path) if rules_path.exists() else LineDict()
    except ContentError as error:
        return [error]
    rules = (rules_file or {}).get("rules") or []
    covered: dict = {}
    for rule in rules:
        loop, followups = _risk_rule_followups(rule)
        if loop is not None:
            covered.setdefault(loop, set()).update(followups)
    line = rules_file.line_of("rules") if isinstance(rules_file, LineDict) and "rules" in rules_file else 1
    errors: List[ContentError] = []
    forms = list((domain.get("forms") or {}).keys())
    for loop in ["null", *forms]:
        where = "outside a form (active_loop: null)" if loop == "null" else f"in form `{loop}` (domain.yml)"
        if loop not in covered:
            errors.append(ContentError(rules_path, line, f"no `{RISK_INTENT}` rule {where}: a risk message must be answered "
                                                         f"there by `{CRISIS_RESPONSE_ACTION}` (copy the rules of another form)"))
            continue
        for followup in CRISIS_FOLLOWUPS:
            if followup not in covered[loop]:
                errors.append(ContentError(rules_path, line, f"the `{RISK_INTENT}` rules {where} lack the branch "
                                                             f"`crisis_followup: {followup}`"))
    return errors


def check_safety() -> List[ContentError]:
    from bot.safety.schema import validate_safety_content

    return list(validate_safety_content())


def run_all(root: Path = PROJECT_ROOT) -> List[ContentError]:
    data = root / "data"
    errors: List[ContentError] = []
    errors += check_screening(data / "screening")
    errors += check_domain_matches_screening(root / "domain.yml", data / "screening")
    errors += check_nlu_examples(data / "nlu")
    errors += check_crisis_rules(root / "domain.yml", data / "rules" / "crisis.yml")
    if data == DATA_DIR:
        errors += check_safety()
    return errors


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="scrollcheck validate", description=__doc__)
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT)
    args = parser.parse_args(argv)
    errors = run_all(args.root)
    for error in errors:
        print(f"ERROR {error}")
    if errors:
        print(f"{len(errors)} problem(s) in the content files")
        return 1
    print("content OK: screening, domain, NLU contract, crisis rules, safety lexicon, replies and crisis resources")
    return 0
