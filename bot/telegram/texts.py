"""What the Telegram front end says by itself (everything else comes from Rasa or bot.safety).

The texts live in data/texts/telegram.yml, one section per language of data/languages.yml; this
module reads and checks them (`scrollcheck validate` names file and line of any gap). Plain text,
no parse mode: nothing here (or in Rasa's texts) is interpreted as Markdown or HTML.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from bot import DATA_DIR
from bot.content.yamlsource import ContentError, LineDict, load_yaml_with_lines
from bot.gateway.reply import Button
from bot.languages import languages

TEXTS_PATH = DATA_DIR / "texts" / "telegram.yml"
KEYS = (
    "help",
    "unknown_command",
    "non_text",
    "edited_ignored",
    "group_refusal",
    "flood_notice",
    "button_already_answered",
    "button_expired",
    "language_question",
)
TOAST_KEYS = (
    "button_already_answered",
    "button_expired",
)  # answerCallbackQuery: at most 200 characters
TOAST_LIMIT = 200

# Commands that are messages to Rasa: the payload is what Rasa receives. /help is the front end's.
COMMAND_PAYLOADS = {
    "start": "/greet",
    "resources": "/request_resources",
    "stop": "/stop",
    "forget": "/delete_data",
    "privacy": "/ask_privacy",
    "language": "/change_language",
}
MENU = ("start", "help", "resources", "stop", "forget", "privacy", "language")  # menu order


def language_payload(args: List[str]) -> str:
    """/language, or "/language nl" (or "/language nederlands") straight to that language."""
    if args:
        settings = languages()
        code = settings.normalise(args[0]) or settings.named_in(" ".join(args))
        if code:
            return f'/change_language{{"language":"{code}"}}'
    return COMMAND_PAYLOADS["language"]


def language_buttons() -> Tuple[Button, ...]:
    """One button per language of data/languages.yml, each named in its own language."""
    return tuple(
        Button(language.name, f'/change_language{{"language":"{language.code}"}}')
        for language in languages().by_code.values()
    )


def read_texts(
    path: Optional[Path] = None,
) -> Tuple[Dict[str, Dict[str, object]], List[ContentError]]:
    """{lang: {key: text, "commands": {command: description}}} and the problems found."""
    path = Path(path) if path else TEXTS_PATH
    errors: List[ContentError] = []
    try:
        root = load_yaml_with_lines(path)
    except ContentError as error:
        return {}, [error]
    section = root.get("languages") if isinstance(root, LineDict) else None
    if not isinstance(section, LineDict):
        return {}, [
            ContentError(path, 1, "the file needs `languages:` with one section per language")
        ]
    texts: Dict[str, Dict[str, object]] = {}
    for code in languages().codes:
        node = section.get(code)
        if not isinstance(node, LineDict):
            errors.append(
                ContentError(
                    path,
                    section.line,
                    f"language `{code}` (data/languages.yml) has no section here",
                )
            )
            continue
        entry: Dict[str, object] = {}
        for key in KEYS:
            value = node.get(key)
            if not isinstance(value, str) or not value.strip():
                errors.append(
                    ContentError(
                        path,
                        node.line_of(key) if key in node else node.line,
                        f"[{code}] `{key}` is missing or empty",
                    )
                )
                continue
            if key in TOAST_KEYS and len(value) > TOAST_LIMIT:
                errors.append(
                    ContentError(
                        path,
                        node.line_of(key),
                        f"[{code}] `{key}` is {len(value)} characters; Telegram shows at most {TOAST_LIMIT}",
                    )
                )
            entry[key] = value.strip()
        commands = node.get("commands")
        if not isinstance(commands, LineDict):
            errors.append(
                ContentError(path, node.line, f"[{code}] `commands` (the menu) is missing")
            )
            commands = LineDict()
        for command in MENU:
            if not isinstance(commands.get(command), str) or not commands[command].strip():
                errors.append(
                    ContentError(
                        path,
                        commands.line_of(command) if command in commands else node.line,
                        f"[{code}] `commands.{command}` is missing or empty",
                    )
                )
        for command in commands:
            if command not in MENU:
                errors.append(
                    ContentError(
                        path,
                        commands.line_of(command),
                        f"[{code}] unknown command `{command}` (known: {', '.join(MENU)})",
                    )
                )
        entry["commands"] = {c: str(commands.get(c, "")).strip() for c in MENU}
        texts[code] = entry
    for code in section:
        if code not in languages().codes:
            errors.append(
                ContentError(
                    path, section.line_of(code), f"language `{code}` is not in data/languages.yml"
                )
            )
    return texts, errors


@functools.lru_cache(maxsize=1)
def _texts() -> Dict[str, Dict[str, object]]:
    texts, errors = read_texts()
    if errors:
        raise errors[0]
    return texts


def text(key: str, lang: Optional[str]) -> str:
    """The front end's text `key` in `lang` (the default language when it has none)."""
    texts = _texts()
    return str(texts.get(languages().normalise(lang) or "", texts[languages().default])[key])


def commands(lang: Optional[str]) -> Tuple[Tuple[str, str], ...]:
    """(command, description) for setMyCommands, in menu order."""
    table = _texts()
    entry = table.get(languages().normalise(lang) or "", table[languages().default])
    described = entry["commands"]
    assert isinstance(described, dict)
    return tuple((command, described[command]) for command in MENU)
