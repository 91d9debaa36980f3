"""`scrollcheck console`: chat with the running Rasa in this terminal, through the same Gateway the
Telegram front end uses (so the safety fast path and fail-safe, the disclosure reminder and the
length bound apply: a safety reply is printed before Rasa has answered). `--language-code` plays
Telegram's language_code (e.g. nl-BE), which sets the reply language and the help numbers' country.

Buttons are shown as numbered options: typing a number sends that button's payload, anything else
is sent as typed. Ctrl-C or Ctrl-D ends the chat. The conversation id is a pseudonym of a local
console id (your user name on this machine), so a later console session continues the same
conversation; `--fresh` starts a new one.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import secrets
import sys
import time
from typing import List, Optional, Sequence, TextIO, Tuple

from bot import settings
from bot.gateway import DEFAULT_TIMEOUT_SECONDS, Button, Gateway, Reply
from bot.logformat import configure as configure_logging
from bot.privacy.pseudonym import Pseudonymiser, SecretError

DEFAULT_RASA_URL = settings.RASA_URL.default
DEFAULT_WAIT_SECONDS = 180.0  # loading a Rasa model on a small machine takes a while
FIRST_MESSAGE = "hi"  # what Telegram's /start does: the bot introduces itself
BOT_PREFIX = "bot> "
USER_PROMPT = "you> "


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scrollcheck console",
        description="Chat with the running Rasa in this terminal, through the gateway.",
    )
    parser.add_argument(
        "--rasa-url",
        default=settings.RASA_URL.get(),
        help="Rasa server URL (default: $SCROLLCHECK_RASA_URL or %(default)s)",
    )
    parser.add_argument(
        "--action-url",
        default=settings.ACTION_URL.get(),
        help="the action server's webhook URL; its /health tells the gateway when custom actions are down "
        "('' to skip; default: $SCROLLCHECK_ACTION_URL or %(default)s)",
    )
    parser.add_argument(
        "--wait",
        type=float,
        default=DEFAULT_WAIT_SECONDS,
        help="seconds to wait for Rasa to come up before giving up (default %(default)s)",
    )
    parser.add_argument(
        "--language-code",
        default=settings.LANGUAGE_CODE.get(),
        help="the language code Telegram would send for you, e.g. nl, nl-BE or en-GB (the reply "
        "language and the country's help numbers follow it; default: $SCROLLCHECK_LANGUAGE_CODE or none)",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="start a new conversation instead of continuing"
    )
    return parser.parse_args(list(argv))


def render(replies: Sequence[Reply], out: TextIO) -> Tuple[Button, ...]:
    """Print the replies; return the buttons a number typed next will choose from."""
    buttons: Tuple[Button, ...] = ()
    indent = " " * len(BOT_PREFIX)
    for reply in replies:
        lines = reply.text.splitlines() or [""]
        out.write(BOT_PREFIX + lines[0] + "\n")
        for line in lines[1:]:
            out.write(indent + line + "\n")
        if reply.buttons:
            buttons = reply.buttons
            for number, button in enumerate(reply.buttons, start=1):
                out.write(f"{indent}  {number}) {button.title}\n")
    out.flush()
    return buttons


def message_for(line: str, buttons: Sequence[Button]) -> str:
    """A number picks a shown button (its payload is sent); the Telegram commands that go to Rasa
    (/start, /resources, /stop, /forget, /privacy, /language [nl]) send what Telegram sends;
    anything else is sent as typed."""
    from bot.telegram.texts import COMMAND_PAYLOADS, language_payload

    choice = line.strip()
    if choice.isdigit() and 1 <= int(choice) <= len(buttons):
        return buttons[int(choice) - 1].payload
    words = choice.split()
    command = words[0][1:].lower() if words and words[0].startswith("/") else ""
    if command == "language":
        return language_payload(words[1:])
    if command in COMMAND_PAYLOADS and len(words) == 1:
        return COMMAND_PAYLOADS[command]
    return line


def converse(
    loop: asyncio.AbstractEventLoop,
    gateway: Gateway,
    pseudonym: str,
    text: str,
    language_code: Optional[str],
    out: TextIO,
) -> Tuple[Button, ...]:
    """One message through the gateway. A safety reply is printed the moment the gateway sends
    it, before Rasa answers; returns the buttons of this turn's last question (or none)."""
    shown: List[Tuple[Button, ...]] = []

    async def show_now(replies: List[Reply]) -> None:
        shown.append(render(replies, out))

    rest = loop.run_until_complete(
        gateway.handle(pseudonym, text, language_code=language_code, send=show_now)
    )
    shown.append(render(rest, out))
    return next((buttons for buttons in reversed(shown) if buttons), ())


def wait_for_rasa(
    loop: asyncio.AbstractEventLoop, gateway: Gateway, bound: float, out: TextIO
) -> bool:
    deadline = time.monotonic() + bound
    told = False
    while True:
        if loop.run_until_complete(gateway.rasa_is_ready()):
            return True
        if time.monotonic() >= deadline:
            return False
        if not told:
            out.write(
                f"Waiting for the assistant at {gateway.rasa_url} to start (up to {bound:.0f} s)...\n"
            )
            out.flush()
            told = True
        time.sleep(1.0)


def _cancel_pending(loop: asyncio.AbstractEventLoop) -> None:
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    out = sys.stdout
    if not logging.getLogger().handlers:  # `scrollcheck run` has configured it already
        configure_logging(logging.WARNING, fmt="%(levelname)s %(name)s: %(message)s")
    # `scrollcheck run` configured INFO for its start-up lines; inside the chat only warnings
    # belong on the screen (spaCy's "initializing nlp object", the hourly purge count are noise).
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        pseudonymiser = Pseudonymiser.from_environment()
    except SecretError as exc:
        print(f"scrollcheck console: {exc}", file=sys.stderr)
        return 2
    local_id = f"console:{secrets.token_hex(8) if args.fresh else getpass.getuser()}"
    pseudonym = pseudonymiser.pseudonym(local_id)

    loop = asyncio.new_event_loop()
    gateway = Gateway(
        args.rasa_url, action_url=args.action_url or None, timeout=DEFAULT_TIMEOUT_SECONDS
    )
    try:
        if not wait_for_rasa(loop, gateway, args.wait, out):
            print(
                f"scrollcheck console: Rasa did not answer at {gateway.rasa_url} within {args.wait:.0f} s. "
                "Is it running? (`make run` starts it.)",
                file=sys.stderr,
            )
            return 1
        Gateway.warm_up_safety()
        out.write(
            "Connected. Type your messages; a number picks a button; Ctrl-D or Ctrl-C ends the chat.\n\n"
        )
        language_code = args.language_code or None
        buttons = converse(loop, gateway, pseudonym, FIRST_MESSAGE, language_code, out)
        while True:
            line = input(USER_PROMPT)
            if not line.strip():
                continue
            buttons = converse(
                loop, gateway, pseudonym, message_for(line, buttons), language_code, out
            )
    except (KeyboardInterrupt, EOFError):
        out.write("\nBye! You can come back any time.\n")
        out.flush()
        return 0
    finally:
        _cancel_pending(loop)
        loop.run_until_complete(gateway.aclose())
        loop.close()
