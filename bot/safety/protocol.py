"""`scrollcheck crisis-protocol [--check]`: the public crisis protocol, generated from the YAML.

    scrollcheck crisis-protocol            # writes docs/crisis-protocol.md
    scrollcheck crisis-protocol --check    # exits 1 when docs/crisis-protocol.md is not current (CI)

The document says what the bot says for each level (check, concern, urgent), category and
language, which help numbers each country gets (with their `checked_on` dates), and what an
unknown country gets. Companion-chatbot laws such as California SB 243 ask for such a published
protocol. Everything in it comes from data/safety/replies.yml and data/safety/crisis_resources.yml;
only the headings and the short explanations are written here. The output is deterministic (no
timestamps), so the check compares it byte for byte.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional, Sequence

from bot import PROJECT_ROOT
from bot.safety import replies as r
from bot.safety.resources import (
    EU_FALLBACK,
    KINDS_FOR_CATEGORY,
    UNKNOWN_FALLBACK,
    CountryResources,
    Resource,
    crisis_directory,
)
from bot.safety.result import CATEGORIES

PROTOCOL_PATH = PROJECT_ROOT / "docs" / "crisis-protocol.md"
COMMAND = "scrollcheck crisis-protocol"

CATEGORY_TITLES = {
    "self_harm": "Suicide and self-harm",
    "abuse": "Abuse and exploitation (violence at home, sexual abuse, sextortion, grooming)",
    "friend_at_risk": "Someone else at risk (a friend, partner or family member)",
    "eating": "Dangerous eating (restriction with fainting, chest pain or days without food)",
    "challenge": "Dangerous challenges",
}
LANGUAGE_NAMES = {"en": "English", "nl": "Dutch (Nederlands)"}
KIND_NAMES = {
    "suicide_line": "suicide prevention line",
    "crisis_line": "crisis line",
    "child_helpline": "child and youth helpline",
    "directory": "directory of helplines",
}


def _quote(text: str) -> List[str]:
    """A message as a Markdown block quote, line breaks kept."""
    return ["> " + line if line else ">" for line in text.split("\n")] + [""]


def _messages(messages: Sequence[str]) -> List[str]:
    """Messages in the order they are sent, as a numbered list of block quotes."""
    out: List[str] = []
    for number, message in enumerate(messages, 1):
        lines = message.split("\n")
        out.append(f"{number}. > {lines[0]}")
        indent = " " * len(f"{number}. ")
        out.extend(f"{indent}> {line}" if line else f"{indent}>" for line in lines[1:])
    return out + [""]


def _slug(title: str) -> str:
    """The anchor GitHub gives a heading."""
    kept = "".join(ch for ch in title.lower() if ch.isalnum() or ch in " -_")
    return kept.replace(" ", "-")


def _buttons(buttons: Sequence[tuple]) -> str:
    return "Buttons: " + " · ".join(f"`{title}`" for title, _ in buttons)


def _language_section(lang: str) -> List[str]:
    texts = r._texts(lang)
    out = [f"## What the bot says: {LANGUAGE_NAMES.get(lang, lang)}", ""]
    out += [
        "Texts as written in `data/safety/replies.yml`. When they are sent, `{emergency}` becomes the",
        "country's emergency number(s), `{resources}` the services listed for the country and category",
        "(see [Help numbers per country](#help-numbers-per-country)) and `{country}` the country's name.",
        "",
    ]
    for category in CATEGORIES:
        out += [f"### {CATEGORY_TITLES.get(category, category)}", ""]
        check = r.check_question(r.RiskResult("check", category), lang)
        out += ["**check** (an uncertain signal): one direct question.", ""]
        out += _quote(check.text)
        out += [
            _buttons(check.buttons)
            + ". Yes, or an unclear answer: the concern reply below. No: the reply after no (below).",
            "",
        ]
        for level, intro in (
            ("concern", "**concern**: help numbers and the emergency number."),
            ("urgent", "**urgent**: the emergency number first."),
        ):
            out += [intro, ""]
            out += _messages(texts.crisis[(category, level)])
        out += [
            "Every concern and urgent reply ends with the automated-assistant note (below)"
            + (
                "; the concern reply is then followed by the acuity question."
                if category == "self_harm"
                else "."
            ),
            "",
        ]
    out += ["### Extra messages for particular signals", ""]
    for extra in texts.extras:
        out += [f"When the detector matched `{'`, `'.join(extra.when)}`:", ""]
        out += _quote(extra.text)
    out += ["### After every concern or urgent reply", ""]
    out += _quote(texts.automated_note)
    question = r.country_question(lang)
    out += ["When the country is not known, the reply ends with:", ""]
    out += _quote(question.text)
    out += [_buttons(question.buttons) + ".", ""]
    acuity = r.acuity_question(lang)
    out += [
        "### The acuity question (self-harm, concern level)",
        "",
        "Asked after the self-harm concern reply (the NIMH ASQ acuity item):",
        "",
    ]
    out += _quote(acuity.text)
    out += [
        _buttons(acuity.buttons) + ".",
        "",
        "Yes, or an unclear answer (after asking once more):",
        "",
    ]
    out += _quote(texts.answer_reask)
    out += ["leads to the urgent reply:", ""]
    out += _messages(texts.urgent_after_yes)
    out += ["No:", ""]
    inside = r.acuity_no_reply(lang, in_checkin=True)
    outside = r.acuity_no_reply(lang, in_checkin=False)
    out += _quote(inside.text)
    out += [
        _buttons(inside.buttons)
        + f" (outside a check-in: {' · '.join(f'`{t}`' for t, _ in outside.buttons)}).",
        "",
    ]
    out += ["### The reply after no to a direct question (check level)", ""]
    out += _quote(texts.check_no)
    out += ["### Help numbers on request (/resources) and while the assistant is down", ""]
    out += _quote(texts.resources_text)
    out += _quote(texts.unavailable)
    out += ["If the safety layer itself cannot be loaded:", ""]
    out += _quote(texts.gateway["last_resort"])
    out += [
        "### Answers to yes/no questions",
        "",
        "A message counts as an answer when it starts with one of these (every language is read on",
        "every answer; the longest match wins; a no followed by a hedge word counts as unsure).",
        "Unsure counts as yes, the safe side.",
        "",
    ]
    for kind, label in (
        ("affirm", "yes"),
        ("deny", "no"),
        ("unsure", "unsure (= yes)"),
        ("hedges", "hedge words"),
    ):
        words = getattr(texts.answers, kind)
        out += [f"- {label}: " + ", ".join(f"`{w}`" for w in words)]
    out += [""]
    return out


def _contacts(resource: Resource, lang: str) -> str:
    return r.resource_line(resource, lang).split(": ", 1)[1]


def _country_section(entry: CountryResources) -> List[str]:
    langs = r.languages()
    names = " / ".join(dict.fromkeys(entry.name_in(lang) for lang in langs))
    code = {
        EU_FALLBACK: "EU member states without their own entry",
        UNKNOWN_FALLBACK: "country not known",
    }.get(entry.code, entry.code)
    out = [f"### {names} ({code})", ""]
    if entry.emergency:
        out += [
            f"Emergency: **{' or '.join(entry.emergency)}**. Checked on {entry.checked_on.isoformat()}.",
            "",
        ]
    else:
        out += [
            f"Emergency: the local number is not known, so replies name the main ones. Checked on {entry.checked_on.isoformat()}.",
            "",
        ]
        for lang in langs:
            out += [f"- {LANGUAGE_NAMES.get(lang, lang)}: {r.emergency_text(entry, lang)}"]
        out += [""]
    if entry.note:
        out += [f"Source: {entry.note}", ""]
    out += [
        "| service | how to reach it | kind | shown for | checked on | note |",
        "|---|---|---|---|---|---|",
    ]
    for resource in entry.resources:
        shown = [c for c in CATEGORIES if resource in entry.for_category(c)]
        name = " / ".join(dict.fromkeys(resource.name_in(lang) for lang in langs))
        reach = _contacts(resource, "en")
        out.append(
            f"| {name} | {reach} | {KIND_NAMES.get(resource.kind, resource.kind)} | "
            f"{', '.join(shown) if shown else '/resources only'} | {resource.checked_on.isoformat()} | "
            f"{(resource.note or '').replace('|', '/')} |"
        )
    out += [""]
    return out


def render() -> str:
    directory = crisis_directory()
    langs = r.languages()
    countries = [
        e for code, e in directory.countries.items() if code not in (EU_FALLBACK, UNKNOWN_FALLBACK)
    ]
    out = [
        "# Crisis protocol",
        "",
        f"<!-- Generated by `{COMMAND}` from data/safety/replies.yml and data/safety/crisis_resources.yml.",
        f"     Do not edit by hand: change the YAML, run `{COMMAND}` and commit the result.",
        f"     CI runs `{COMMAND} --check`, which fails when this file is not current. -->",
        "",
        "scrollcheck is an automated assistant for young people (13 to 25) who check in about their",
        "social-media use. It is not a human and not a therapist: it does not diagnose or treat, and it",
        "cannot send help itself. This is its published protocol for messages that signal suicidal",
        "thoughts, self-harm, abuse, danger to someone else, dangerous eating or a dangerous challenge:",
        "it refers the user to crisis services and emergency numbers in the same turn.",
        "",
        "## How a message is handled",
        "",
        "- Every message, in every state of the conversation (also in the middle of a check-in, during",
        "  consent and after /stop), is read by the risk detector before anything else, together with",
        "  the chat's last three messages. Every language's detector ("
        + ", ".join(LANGUAGE_NAMES.get(code, code) for code in langs)
        + ") reads every message.",
        "- The reply is in the language the message was written in, else the user's language, else English.",
        "- Help numbers are those of the country the user chose; else the country in the user's Telegram",
        "  language setting when it names one (`nl-BE`: Belgium); else the country is unknown, and the reply",
        "  names the main emergency numbers and an international directory, then asks for the country.",
        "- The user gets exactly one safety reply per message.",
        "",
        "| level | when | what the bot does |",
        "|---|---|---|",
        "| check | an uncertain signal | asks one direct question (modelled on the NIMH ASQ) with Yes/No buttons; yes or an unclear answer leads to the concern reply, no to a short note with /resources, and the conversation goes on where it was |",
        "| concern | a clear signal, no immediate danger | help numbers for the country and the emergency number; for suicide and self-harm then the ASQ acuity question, whose yes (or unclear answer) leads to the urgent reply |",
        "| urgent | danger now (a plan, means, time, acting now, a goodbye) | the emergency number first, then people nearby and help numbers |",
        "",
        "Asking directly about suicidal thoughts is what clinical guidance recommends; it does not raise risk.",
        "Replies never name or hint at a method and never claim to be a person or a professional:",
        "`scrollcheck validate` rejects such texts in every language.",
        "",
    ]
    out += ["## Contents", ""]
    for lang in langs:
        title = f"What the bot says: {LANGUAGE_NAMES.get(lang, lang)}"
        out += [f"- [{title}](#{_slug(title)})"]
    out += [
        "- [Help numbers per country](#help-numbers-per-country)",
        "- [Unknown country](#unknown-country)",
        "",
    ]
    for lang in langs:
        out += _language_section(lang)
    out += ["## Help numbers per country", ""]
    out += [
        "Which kinds of service a reply shows, best first (all of the country's services when it has",
        "none of these kinds; /resources always shows every service):",
        "",
        "| category | services shown |",
        "|---|---|",
    ]
    out += [
        f"| {c} | {', '.join(KIND_NAMES[k] for k in KINDS_FOR_CATEGORY.get(c, ()))} |"
        for c in CATEGORIES
    ]
    out += [
        "",
        "Every entry comes from the project's reference list of published numbers; `checked on` is the",
        "date it was last compared with that list. "
        + (
            "Each entry still has to be checked on the provider's own website before release."
            if not directory.verified_with_provider
            else "Every entry was also checked on the provider's own website."
        ),
        "",
    ]
    for entry in countries:
        out += _country_section(entry)
    out += _country_section(directory.countries[EU_FALLBACK])
    unknown = directory.countries[UNKNOWN_FALLBACK]
    out += ["## Unknown country", ""]
    out += _country_section(unknown)[1:]
    for lang in langs:
        reply = r.crisis_reply(r.RiskResult("urgent", "self_harm"), None, lang)
        out += [
            f"The full urgent self-harm reply for an unknown country, {LANGUAGE_NAMES.get(lang, lang)}:",
            "",
        ]
        out += _messages(reply.messages)
        out += [_buttons(reply.buttons) + ".", ""]
    text = "\n".join(out)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.rstrip("\n") + "\n"


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when the file is not current (for CI)"
    )
    parser.add_argument(
        "--output", type=Path, default=PROTOCOL_PATH, help="default: docs/crisis-protocol.md"
    )
    args = parser.parse_args(argv)
    text = render()
    path: Path = args.output
    shown = (
        path.relative_to(PROJECT_ROOT)
        if path.is_absolute() and PROJECT_ROOT in path.parents
        else path
    )
    if args.check:
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            print(f"{shown}: current")
            return 0
        reason = (
            "is missing"
            if current is None
            else "is not current (data/safety/replies.yml or crisis_resources.yml changed)"
        )
        print(f"{shown} {reason}: run `{COMMAND}` and commit the result", file=sys.stderr)
        return 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {shown}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
