"""`scrollcheck` console command: one entry point, one module per sub-command.

Sub-commands are imported lazily so that `scrollcheck risk` does not pay for Flask or Telegram.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Callable, Dict, List, Optional, Tuple

# name -> (module:function taking argv and returning an exit code, one-line help)
COMMANDS: Dict[str, Tuple[str, str]] = {
    "run": (
        "bot.runner:main",
        "start action server, Rasa, review page and the console or Telegram front end",
    ),
    "validate": (
        "bot.content.validate:main",
        "check every maintainer-edited YAML file (file and line on error)",
    ),
    "build-spacy": (
        "bot.nlp.blank_model:main",
        "save the blank spaCy pipeline Rasa's SpacyNLP loads",
    ),
    "risk": (
        "bot.safety.cli:main",
        "classify JSON lines on stdin for risk, or --report a labelled set",
    ),
    "crisis-protocol": (
        "bot.safety.protocol:main",
        "write docs/crisis-protocol.md from the safety YAML (--check: is it current?)",
    ),
    "train-risk": (
        "bot.safety.training:main",
        "train the risk model (thresholds by cross-validation) if its data changed",
    ),
    "console": (
        "bot.console:main",
        "chat with the running Rasa in this terminal, through the gateway",
    ),
    "telegram": ("bot.telegram.app:main", "run the Telegram front end (polling or webhook)"),
    "scrub": ("bot.privacy.scrub:main", "redact identifiers from JSON lines on stdin"),
    "purge": ("bot.storage.purge:main", "delete raw trackers older than the retention"),
    "migrate": ("bot.storage.migrate:main", "apply database migrations"),
    "review": ("bot.review.app:main", "serve the clinician review page on 127.0.0.1"),
    "clinician": ("bot.review.accounts:main", "manage clinician accounts (add EMAIL)"),
    "settings": (
        "bot.settings:main",
        "check the environment variables and show where each value comes from",
    ),
}

# Commands that start services: every setting is checked first, so a bad value stops the start
# instead of failing later in a child process.
_CHECK_ALL_SETTINGS = {"run"}


# spaCy's thinc probes TensorFlow on import; keep its C++ start-up chatter off the terminal.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


# Commands that never run Rasa in this process (`run` starts Rasa as a child process of its own,
# with its own imports): spaCy would otherwise import TensorFlow through
# thinc (about 5 s and 500 MB) only to find it unused.
_WITHOUT_TENSORFLOW = {
    "run",
    "risk",
    "crisis-protocol",
    "train-risk",
    "console",
    "telegram",
    "scrub",
    "validate",
    "build-spacy",
    "settings",
}


def _load(target: str) -> Callable[[List[str]], int]:
    module_name, func_name = target.split(":")
    return getattr(importlib.import_module(module_name), func_name)


def usage() -> str:
    lines = ["usage: scrollcheck COMMAND [ARGS]", "", "commands:"]
    width = max(len(n) for n in COMMANDS)
    lines += [f"  {name.ljust(width)}  {help_}" for name, (_, help_) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(usage())
        return 0
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"scrollcheck: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    if name in _WITHOUT_TENSORFLOW and "tensorflow" not in sys.modules:
        sys.modules["tensorflow"] = None  # type: ignore[assignment]  # makes `import tensorflow` fail fast
    from bot.settings import SettingError, check

    errors = check() if name in _CHECK_ALL_SETTINGS else []
    for error in errors:
        print(f"scrollcheck {name}: {error}", file=sys.stderr)
    if errors:
        return 2
    try:
        return int(_load(COMMANDS[name][0])(rest) or 0)
    except SettingError as error:  # a bad environment variable: the message names it
        print(f"scrollcheck {name}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
