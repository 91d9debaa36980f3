"""YAML loading that remembers line numbers, so content errors can name file and line.

Maintainers edit the YAML under data/; when an entry is malformed CI must say exactly where.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Union

import yaml


class ContentError(ValueError):
    """A maintainer-facing error in a content file; str() is `path:line: message`."""

    def __init__(self, path: Union[str, Path], line: int, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.message = message
        super().__init__(f"{self.path}:{self.line}: {self.message}")


class LineDict(dict):
    """A mapping that knows its own line and the line of each key (1-based)."""

    line: int = 0
    # Where a gap inside is reported, when a checker sets it: the line of the key holding this
    # mapping (0: not set, use `line`).
    key_line: int = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_lines: Dict[Any, int] = {}

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class LineList(list):
    """A sequence that knows its own line and the line of each item (1-based)."""

    line: int = 0

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.item_lines: List[int] = []

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


def line_of(container: Any, key: Any, default: int) -> int:
    """The line of `key` in what load_yaml_with_lines returned; `default` for plain data."""
    if isinstance(container, (LineDict, LineList)):
        return container.line_of(key)
    return default


class _LineLoader(yaml.SafeLoader):
    pass


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    result = LineDict()
    result.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise ContentError(
                getattr(loader, "source_path", "<yaml>"),
                key_node.start_mark.line + 1,
                f"duplicate key {key!r}",
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.key_lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> LineList:
    result = LineList(loader.construct_object(child, deep=True) for child in node.value)
    result.line = node.start_mark.line + 1
    result.item_lines = [child.start_mark.line + 1 for child in node.value]
    return result


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_yaml_with_lines(path: Union[str, Path]) -> Any:
    """Parse a YAML file; mappings become LineDict and sequences LineList.

    Syntax errors are raised as ContentError with the parser's line.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    loader = _LineLoader(text)
    loader.source_path = str(path)
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise ContentError(path, line, f"YAML syntax: {exc.problem or exc}") from None
    finally:
        loader.dispose()
