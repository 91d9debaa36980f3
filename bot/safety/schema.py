"""Check every maintainer-edited file in data/safety/ and report problems as `file:line: message`.

    from bot.safety.schema import validate_safety_content
    for error in validate_safety_content(): print(error)

Checks: the lexicon files (structure, then every pattern compiled against spaCy's tokenizer),
crisis_resources.yml (each country has its emergency number and dated resources, and its name in
every language the replies have; the EU and unknown-country fallbacks exist, the latter with the
main emergency numbers), replies.yml (every key in every language, each gap named by file and
line; placeholders, emergency number first in urgent replies, no method words and no claims to be
a person, a therapist, to diagnose or to send help, in any language; answer word lists;
`extras` naming real lexicon ids), classifier.yml (settings in range, training files exist, no
blind set trained on) and that no unexpected file sits in the directory (a misspelt file name
would otherwise be silently ignored).
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional, Set

from bot import DATA_DIR
from bot.content.yamlsource import ContentError, LineDict, load_yaml_with_lines
from bot.safety.lexicon import read_lexicon
from bot.safety.replies import read_replies
from bot.safety.resources import read_crisis_resources

SAFETY_DIR = DATA_DIR / "safety"
EXPECTED_FILES = ("crisis_resources.yml", "replies.yml", "classifier.yml", "README.md")
LEXICON_SUBDIR = "lexicon"
TRAINING_SUBDIR = "training"  # the risk model's training data (checked by the classifier's config)


def _lexicon_errors(path: Path, known_ids: Set[str]) -> List[ContentError]:
    lexicon, errors = read_lexicon(path)
    if errors or lexicon is None:
        return errors
    # Imported here: compiling needs spaCy, which the resource and reply checks do not.
    from bot.safety.detector import _build_nlp, compile_lexicon

    try:
        nlp = _build_nlp(lexicon.language)
    except Exception as exc:  # spaCy raises several types for an unsupported language
        return [
            ContentError(
                path,
                1,
                f"spaCy cannot build a pipeline for `{lexicon.language}` ({type(exc).__name__})",
            )
        ]
    _, errors = compile_lexicon(lexicon, nlp)
    known_ids.update(entry.id for entry in lexicon.entries)
    return errors


def _reply_languages(path: Path) -> tuple:
    """The languages replies.yml has (each country's name must exist in all of them)."""
    try:
        root = load_yaml_with_lines(path)
    except (ContentError, OSError):
        return ()  # reported by read_replies
    languages = root.get("languages") if isinstance(root, LineDict) else None
    return tuple(str(lang) for lang in languages) if isinstance(languages, LineDict) else ()


def validate_safety_content(directory: Optional[Path] = None) -> List[ContentError]:
    """Every problem in data/safety/ (empty list when all is well)."""
    directory = Path(directory or SAFETY_DIR)
    errors: List[ContentError] = []
    for path in sorted(directory.iterdir()):
        if (
            path.name.startswith(".")
            or path.name in EXPECTED_FILES
            or (path.is_dir() and path.name in (LEXICON_SUBDIR, TRAINING_SUBDIR))
        ):
            continue
        errors.append(
            ContentError(
                path,
                1,
                f"unexpected file in {directory.name}/ (expected: {', '.join(EXPECTED_FILES)}, "
                f"{LEXICON_SUBDIR}/<language>.yml, {TRAINING_SUBDIR}/)",
            )
        )

    known_ids: Set[str] = set()
    lexicon_dir = directory / LEXICON_SUBDIR
    lexicon_files = sorted(lexicon_dir.glob("*.yml")) if lexicon_dir.is_dir() else []
    if not lexicon_files:
        errors.append(ContentError(lexicon_dir, 1, "no lexicon found (expected lexicon/en.yml)"))
    elif not (lexicon_dir / "en.yml").exists():
        errors.append(
            ContentError(
                lexicon_dir / "en.yml",
                1,
                "the English lexicon is required: every other language falls back to it",
            )
        )
    for path in sorted(lexicon_dir.iterdir()) if lexicon_dir.is_dir() else []:
        if path.suffix != ".yml" and not path.name.startswith("."):
            errors.append(
                ContentError(path, 1, "unexpected file in lexicon/ (expected <language>.yml)")
            )
    for path in lexicon_files:
        errors.extend(_lexicon_errors(path, known_ids))

    errors.extend(
        read_crisis_resources(
            directory / "crisis_resources.yml", _reply_languages(directory / "replies.yml")
        )[1]
    )
    # Cross-check `extras` only when the lexicon itself loaded, to avoid a cascade of errors.
    ids = (
        known_ids
        if known_ids and not any(e.path.startswith(str(lexicon_dir)) for e in errors)
        else None
    )
    errors.extend(read_replies(directory / "replies.yml", known_ids=ids)[1])
    if (directory / "classifier.yml").exists():
        from bot.safety.classifier import validate_config

        errors.extend(validate_config(directory / "classifier.yml"))
    errors.extend(_language_coverage(directory, lexicon_files))
    return errors


def _language_coverage(directory: Path, lexicon_files: List[Path]) -> List[ContentError]:
    """Every language of data/languages.yml has its crisis texts and its lexicon."""
    from bot.languages import LANGUAGES_PATH, load_languages

    try:
        codes = load_languages().codes
    except ContentError as error:
        return [error]
    errors = []
    replies = _reply_languages(directory / "replies.yml")
    for code in codes:
        if replies and code not in replies:
            errors.append(
                ContentError(
                    directory / "replies.yml",
                    1,
                    f"no `{code}` section, but {LANGUAGES_PATH.name} lists "
                    f"`{code}`: every crisis text is needed in every language",
                )
            )
        if lexicon_files and code not in {p.stem for p in lexicon_files}:
            errors.append(
                ContentError(
                    directory / "lexicon" / f"{code}.yml",
                    1,
                    f"missing: {LANGUAGES_PATH.name} lists `{code}`, "
                    f"so the detector needs its lexicon",
                )
            )
    return errors


def main(argv: Optional[List[str]] = None) -> int:
    """Print problems in data/safety/ (the full `scrollcheck validate` includes this)."""
    errors = validate_safety_content()
    for error in errors:
        print(error)
    if not errors:
        print("data/safety: ok")
    return 1 if errors else 0
