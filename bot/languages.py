"""The languages the bot speaks, read from data/languages.yml (the one place they are listed).

Everything else asks here: the default language, whether a code is one we speak ("nl-BE" -> "nl"),
the name to show on a button, and whether a message names a language ("in het engels aub").
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Tuple

from bot import DATA_DIR
from bot.content.yamlsource import ContentError, LineDict, load_yaml_with_lines

LANGUAGES_PATH = DATA_DIR / "languages.yml"
_CODE = re.compile(r"^[a-z]{2}$")


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    names: Tuple[str, ...]
    codes: Tuple[str, ...]


@dataclass(frozen=True)
class Languages:
    by_code: Dict[str, Language]
    default: str
    min_words: int
    min_confidence: float

    @property
    def codes(self) -> Tuple[str, ...]:
        return tuple(self.by_code)

    def normalise(self, code: object) -> Optional[str]:
        """ "nl-BE", "nl_NL", "NL" -> "nl"; a language we do not speak (or no code) -> None."""
        if not isinstance(code, str) or not code.strip():
            return None
        base = code.strip().replace("_", "-").split("-")[0].lower()
        for language in self.by_code.values():
            if base in language.codes:
                return language.code
        return None

    def named_in(self, text: str) -> Optional[str]:
        """The one language a message names ("english pls" -> en), or None (none, or several)."""
        words = set(re.findall(r"[^\W\d_]+", text.lower()))
        found = {lang.code for lang in self.by_code.values() if words & set(lang.names)}
        return found.pop() if len(found) == 1 else None


def load_languages(path: Optional[Path] = None) -> Languages:
    """Read and check data/languages.yml; ContentError (file:line) on any problem."""
    path = Path(path) if path else LANGUAGES_PATH
    root = load_yaml_with_lines(path)
    if (
        not isinstance(root, LineDict)
        or not isinstance(root.get("languages"), LineDict)
        or not root["languages"]
    ):
        raise ContentError(
            path, 1, "the file needs `languages:` with one entry per language code (en, nl, ...)"
        )
    section = root["languages"]
    by_code: Dict[str, Language] = {}
    for code, entry in section.items():
        line = section.line_of(code)
        if not _CODE.match(str(code)):
            raise ContentError(
                path, line, f"language code {code!r} must be two lowercase letters (ISO 639-1)"
            )
        if (
            not isinstance(entry, LineDict)
            or not isinstance(entry.get("name"), str)
            or not entry["name"].strip()
        ):
            raise ContentError(
                path, line, f"language `{code}` needs a `name` (shown on the language button)"
            )
        names = entry.get("names") or []
        codes = entry.get("codes") or [code]
        if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
            raise ContentError(
                path,
                entry.line_of("names") if "names" in entry else line,
                f"`{code}.names` must be a list of words",
            )
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise ContentError(
                path,
                entry.line_of("codes") if "codes" in entry else line,
                f"`{code}.codes` must be a list",
            )
        by_code[str(code)] = Language(
            str(code),
            entry["name"].strip(),
            tuple(n.lower() for n in names),
            tuple(c.lower() for c in codes),
        )
    ident = root.get("identification") or LineDict()
    min_words, min_confidence = ident.get("min_words", 3), ident.get("min_confidence", 0.9)
    if not isinstance(min_words, int) or min_words < 1:
        raise ContentError(
            path,
            ident.line_of("min_words") if "min_words" in ident else 1,
            "`identification.min_words` must be a whole number ≥ 1",
        )
    if not isinstance(min_confidence, (int, float)) or not 0 < min_confidence <= 1:
        raise ContentError(
            path,
            ident.line_of("min_confidence") if "min_confidence" in ident else 1,
            "`identification.min_confidence` must be between 0 and 1",
        )
    return Languages(by_code, next(iter(by_code)), min_words, float(min_confidence))


@functools.lru_cache(maxsize=1)
def languages() -> Languages:
    """The project's languages, loaded once per process."""
    return load_languages()


def default_language() -> str:
    return languages().default


def normalise(code: object) -> Optional[str]:
    return languages().normalise(code)
