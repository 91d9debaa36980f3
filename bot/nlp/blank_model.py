"""Build the blank spaCy pipeline that Rasa's SpacyNLP loads from a path.

No pretrained spaCy model can be downloaded here, so we save `spacy.blank(lang)` with a
lookup-mode lemmatizer whose tables come from the installed spacy-lookups-data package.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import List, Optional

import spacy
from spacy.language import Language

from bot import PROJECT_ROOT

DEFAULT_DIR = PROJECT_ROOT / "models" / "spacy"


def build_blank_pipeline(lang: str = "en") -> Language:
    """Return a blank pipeline with lookup lemmas (initialised offline)."""
    nlp = spacy.blank(lang)
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()  # loads the lookup tables from spacy-lookups-data, no network
    return nlp


def save_blank_pipeline(target: Path, lang: str = "en") -> Path:
    target = Path(target)
    tmp = target.with_name(target.name + ".tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    build_blank_pipeline(lang).to_disk(tmp)
    if target.exists():
        shutil.rmtree(target)
    tmp.rename(target)  # atomic swap: a half-written model is never left at `target`
    return target


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="scrollcheck build-spacy", description=__doc__)
    parser.add_argument("--lang", default="en")
    parser.add_argument("--out", type=Path, default=None, help="default: models/spacy/<lang>_blank")
    args = parser.parse_args(argv)
    out = args.out or DEFAULT_DIR / f"{args.lang}_blank"
    out.parent.mkdir(parents=True, exist_ok=True)
    save_blank_pipeline(out, args.lang)
    print(f"saved blank spaCy pipeline ({args.lang}) to {out}")
    return 0
