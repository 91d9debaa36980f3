"""A text in every language the bot speaks, read from YAML as `{en: "...", nl: "..."}`.

The YAML readers (screening content, Telegram texts) use `read_localized` so a missing language
is reported with the file and line, like any other content error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Tuple

from bot.content.yamlsource import ContentError, LineDict, line_of
from bot.languages import languages


class Localized:
    """One text per language code; `localized[lang]` falls back to the default language."""

    __slots__ = ("_texts",)

    def __init__(self, texts: Dict[str, str]) -> None:
        self._texts: Tuple[Tuple[str, str], ...] = tuple(sorted(texts.items()))

    def __getitem__(self, lang: Optional[str]) -> str:
        texts = dict(self._texts)
        code = languages().normalise(lang)
        return texts.get(code or "") or texts[languages().default]

    def __iter__(self) -> Iterator[str]:
        return (text for _, text in self._texts)

    def items(self) -> Tuple[Tuple[str, str], ...]:
        return self._texts

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Localized) and other._texts == self._texts

    def __hash__(self) -> int:
        return hash(self._texts)

    def __repr__(self) -> str:
        return f"Localized({dict(self._texts)!r})"


def read_localized(path: Path, parent: LineDict, key: str, *, kind: type = str) -> Dict[str, Any]:
    """parent[key] as {lang: value} with every language of data/languages.yml, or ContentError.

    kind=str: non-empty text per language; kind=list: a non-empty list of words per language.
    """
    if key not in parent:
        raise ContentError(path, parent.line, f"missing required field `{key}`")
    return read_localized_node(path, parent[key], parent.line_of(key), key, kind=kind)


def read_localized_node(
    path: Path, node: Any, line: int, label: str, *, kind: type = str
) -> Dict[str, Any]:
    """A `{en: ..., nl: ...}` node found at `line`, named `label` in error messages."""
    codes = languages().codes
    if not isinstance(node, LineDict):
        example = ", ".join(f"{c}: ..." for c in codes)
        raise ContentError(path, line, f"`{label}` must give every language: {{{example}}}")
    for code in node:
        if code not in codes:
            raise ContentError(
                path,
                node.line_of(code),
                f"`{label}` has language `{code}`, which data/languages.yml does not list",
            )
    result: Dict[str, Any] = {}
    for code in codes:
        if code not in node:
            raise ContentError(
                path,
                line,
                f"`{label}` lacks `{code}`: every language in data/languages.yml needs every text",
            )
        value = node[code]
        where = node.line_of(code)
        if kind is str:
            if not isinstance(value, str) or not value.strip():
                raise ContentError(path, where, f"`{label}.{code}` must be non-empty text")
            result[code] = value
        else:
            if not isinstance(value, list) or not value:
                raise ContentError(path, where, f"`{label}.{code}` must be a non-empty list")
            for index, entry in enumerate(value):
                if (
                    not isinstance(entry, (str, int))
                    or isinstance(entry, bool)
                    or not str(entry).strip()
                ):
                    raise ContentError(
                        path,
                        line_of(value, index, where),
                        f"`{label}.{code}` entries must be non-empty text",
                    )
            result[code] = tuple(str(entry).lower() for entry in value)
    return result
