"""`scrollcheck validate`: check every maintainer-edited YAML file, naming file and line.

Checks: the screening content (data/screening), the safety lexicon, replies and crisis resources
(data/safety), that domain.yml has a slot, form entry and ask action for every screening item,
the NLU contract (the fixed intents exist, each with enough training examples, in every
language), that every response, item, button and text exists in every language of
data/languages.yml, and that the crisis path has its rules in data/rules/crisis.yml outside forms
and in every form of domain.yml.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from bot import DATA_DIR, PROJECT_ROOT
from bot.content.yamlsource import ContentError, LineDict, load_yaml_with_lines

# Maintainers and tests rely on these names (issue 2, "NLU contract").
FIXED_INTENTS = (
    "greet",
    "goodbye",
    "affirm",
    "deny",
    "thank",
    "start_screening",
    "choose_comparison",
    "choose_fomo",
    "choose_cyberbullying",
    "choose_all",
    "answer_never",
    "answer_rarely",
    "answer_sometimes",
    "answer_often",
    "answer_very_often",
    "skip_question",
    "ask_bot_identity",
    "ask_why",
    "ask_privacy",
    "request_diagnosis",
    "request_resources",
    "stop",
    "delete_data",
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
    form = (domain.get("forms") or {}).get("checkin_form") or {}
    form_slots = form.get("required_slots") or []
    intents = [i if isinstance(i, str) else next(iter(i)) for i in domain.get("intents") or []]
    for item_id in screening.item_slots:
        if item_id not in slots:
            errors.append(
                ContentError(
                    domain_path,
                    domain.line_of("slots"),
                    f"missing slot `{item_id}` for screening item {item_id} (copy another item's slot)",
                )
            )
        if item_id not in form_slots:
            errors.append(
                ContentError(
                    domain_path,
                    domain.line_of("forms"),
                    f"checkin_form.required_slots lacks `{item_id}`",
                )
            )
        if f"action_ask_{item_id}" not in actions:
            errors.append(
                ContentError(
                    domain_path, domain.line_of("actions"), f"actions lacks `action_ask_{item_id}`"
                )
            )
    for point in screening.scale:
        if point.intent not in intents:
            errors.append(
                ContentError(
                    domain_path,
                    domain.line_of("intents"),
                    f"scale intent `{point.intent}` is not a domain intent",
                )
            )
    for intent in FIXED_INTENTS:
        if intent not in intents:
            errors.append(
                ContentError(
                    domain_path, domain.line_of("intents"), f"fixed intent `{intent}` is missing"
                )
            )
    return errors


def check_nlu_examples(
    nlu_dir: Path, *, recursive: bool = False, label: str = ""
) -> List[ContentError]:
    """The fixed intents each have MIN_EXAMPLES examples in the files of `nlu_dir` (the default
    language's files sit in data/nlu/ itself, every other language's in data/nlu/<code>/)."""
    counts: Dict[str, int] = {}
    first_seen: Dict[str, Tuple[Path, int]] = {}
    errors: List[ContentError] = []
    for path in sorted(nlu_dir.rglob("*.yml") if recursive else nlu_dir.glob("*.yml")):
        try:
            data = load_yaml_with_lines(path)
        except ContentError as error:
            errors.append(error)
            continue
        for block in (data or {}).get("nlu") or []:
            if not isinstance(block, LineDict) or "intent" not in block:
                continue
            examples = [
                line
                for line in str(block.get("examples") or "").splitlines()
                if line.strip().startswith("- ")
            ]
            if not examples:
                errors.append(
                    ContentError(path, block.line, f"intent `{block['intent']}` has no examples")
                )
            counts[block["intent"]] = counts.get(block["intent"], 0) + len(examples)
            first_seen.setdefault(block["intent"], (path, block.line))
    for intent in FIXED_INTENTS:
        if counts.get(intent, 0) < MIN_EXAMPLES:
            path, line = first_seen.get(intent, (nlu_dir, 1))
            errors.append(
                ContentError(
                    path,
                    line,
                    f"{label}intent `{intent}` has {counts.get(intent, 0)} examples; at least {MIN_EXAMPLES} are needed",
                )
            )
    return errors


def _risk_rule_followups(rule: object) -> "tuple[object, set]":
    """(the rule's active_loop condition, the crisis_followup values its steps branch on) for a
    rule that answers risk_disclosure with action_crisis_response; (None, set()) for any other."""
    if not isinstance(rule, dict):
        return None, set()
    steps = rule.get("steps") or []
    if not (
        len(steps) >= 2
        and isinstance(steps[0], dict)
        and steps[0].get("intent") == RISK_INTENT
        and isinstance(steps[1], dict)
        and steps[1].get("action") == CRISIS_RESPONSE_ACTION
    ):
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
    line = (
        rules_file.line_of("rules")
        if isinstance(rules_file, LineDict) and "rules" in rules_file
        else 1
    )
    errors: List[ContentError] = []
    forms = list((domain.get("forms") or {}).keys())
    for loop in ["null", *forms]:
        where = (
            "outside a form (active_loop: null)"
            if loop == "null"
            else f"in form `{loop}` (domain.yml)"
        )
        if loop not in covered:
            errors.append(
                ContentError(
                    rules_path,
                    line,
                    f"no `{RISK_INTENT}` rule {where}: a risk message must be answered "
                    f"there by `{CRISIS_RESPONSE_ACTION}` (copy the rules of another form)",
                )
            )
            continue
        for followup in CRISIS_FOLLOWUPS:
            if followup not in covered[loop]:
                errors.append(
                    ContentError(
                        rules_path,
                        line,
                        f"the `{RISK_INTENT}` rules {where} lack the branch "
                        f"`crisis_followup: {followup}`",
                    )
                )
    return errors


def _condition_language(variation: LineDict) -> Optional[str]:
    """The language a response variation is for: None for the default (no condition), the code
    for `condition: [{type: slot, name: language, value: <code>}]`, "?" for anything else."""
    conditions = variation.get("condition")
    if not conditions:
        return None
    if (
        isinstance(conditions, list)
        and len(conditions) == 1
        and isinstance(conditions[0], dict)
        and conditions[0].get("type") == "slot"
        and conditions[0].get("name") == "language"
    ):
        return str(conditions[0].get("value"))
    return "?"


def _button_payloads(variation: LineDict) -> List[str]:
    # A language button points at the other language, so its payload differs by design.
    return [
        str(b.get("payload"))
        for b in variation.get("buttons") or []
        if isinstance(b, dict) and not str(b.get("payload", "")).startswith("/change_language")
    ]


def check_response_languages(domain_path: Path) -> List[ContentError]:
    """Every response in domain.yml has its default (first language) and one variation per other
    language of data/languages.yml, with the same buttons, placeholders and custom payload."""
    import re

    from bot.languages import load_languages

    try:
        settings = load_languages()
        domain = load_yaml_with_lines(domain_path)
    except ContentError as error:
        return [error]
    errors: List[ContentError] = []
    responses = domain.get("responses") or LineDict()
    placeholder = re.compile(r"\{(\w+)\}")
    for name, variations in responses.items():
        line = responses.line_of(name)
        if not isinstance(variations, list) or not variations:
            errors.append(ContentError(domain_path, line, f"response `{name}` has no variation"))
            continue
        by_language: dict = {}
        for index, variation in enumerate(variations):
            where = variations.line_of(index) if hasattr(variations, "line_of") else line
            if not isinstance(variation, LineDict):
                errors.append(
                    ContentError(
                        domain_path, where, f"response `{name}`: each variation must be a mapping"
                    )
                )
                continue
            lang = _condition_language(variation) or settings.default
            if lang not in settings.codes:
                errors.append(
                    ContentError(
                        domain_path,
                        where,
                        f"response `{name}`: a variation's condition must be "
                        f"`language` equal to one of {', '.join(settings.codes[1:])}",
                    )
                )
                continue
            if lang in by_language:
                errors.append(
                    ContentError(
                        domain_path, where, f"response `{name}` has two variations for `{lang}`"
                    )
                )
                continue
            if not isinstance(variation.get("text"), str) or not variation["text"].strip():
                errors.append(
                    ContentError(domain_path, where, f"response `{name}` [{lang}] has no text")
                )
                continue
            by_language[lang] = (variation, where)
        if settings.default not in by_language:
            errors.append(
                ContentError(
                    domain_path,
                    line,
                    f"response `{name}` needs a variation without a condition, "
                    f"in the default language `{settings.default}`",
                )
            )
            continue
        reference, _ = by_language[settings.default]
        for lang in settings.codes:
            if lang not in by_language:
                errors.append(
                    ContentError(
                        domain_path,
                        line,
                        f"response `{name}` lacks `{lang}`: add a variation with "
                        f"`condition: [{{type: slot, name: language, value: {lang}}}]`",
                    )
                )
                continue
            variation, where = by_language[lang]
            if _button_payloads(variation) != _button_payloads(reference):
                errors.append(
                    ContentError(
                        domain_path,
                        where,
                        f"response `{name}` [{lang}]: its buttons must send the same "
                        f"payloads, in the same order, as the `{settings.default}` ones",
                    )
                )
            if set(placeholder.findall(variation["text"])) != set(
                placeholder.findall(reference["text"])
            ):
                errors.append(
                    ContentError(
                        domain_path,
                        where,
                        f"response `{name}` [{lang}]: its {{placeholders}} differ "
                        f"from the `{settings.default}` text's",
                    )
                )
            if variation.get("custom") != reference.get("custom"):
                errors.append(
                    ContentError(
                        domain_path,
                        where,
                        f"response `{name}` [{lang}]: its `custom` block differs "
                        f"from the `{settings.default}` one",
                    )
                )
    return errors


def check_nlu_languages(nlu_dir: Path) -> List[ContentError]:
    """Each language other than the default has its own data/nlu/<code>/ with the fixed intents."""
    from bot.languages import load_languages

    try:
        settings = load_languages()
    except ContentError as error:
        return [error]
    errors: List[ContentError] = []
    for code in settings.codes[1:]:
        folder = nlu_dir / code
        if not folder.is_dir():
            errors.append(
                ContentError(
                    folder,
                    1,
                    f"language `{code}` (data/languages.yml) has no NLU examples: "
                    f"add data/nlu/{code}/ with every fixed intent",
                )
            )
            continue
        errors += check_nlu_examples(folder, recursive=False, label=f"[{code}] ")
    return errors


def check_texts() -> List[ContentError]:
    from bot.telegram.texts import read_texts

    return read_texts()[1]


def check_safety() -> List[ContentError]:
    from bot.safety.schema import validate_safety_content

    return list(validate_safety_content())


def run_all(root: Path = PROJECT_ROOT) -> List[ContentError]:
    data = root / "data"
    errors: List[ContentError] = []
    errors += check_screening(data / "screening")
    errors += check_domain_matches_screening(root / "domain.yml", data / "screening")
    errors += check_nlu_examples(data / "nlu")
    errors += check_nlu_languages(data / "nlu")
    errors += check_response_languages(root / "domain.yml")
    errors += check_crisis_rules(root / "domain.yml", data / "rules" / "crisis.yml")
    if data == DATA_DIR:
        errors += check_safety()
        errors += check_texts()
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
    print(
        "content OK in every language: screening, domain responses, NLU contract, crisis rules, "
        "Telegram texts, safety lexicon, replies and crisis resources"
    )
    return 0
