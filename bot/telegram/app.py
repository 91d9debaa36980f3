"""`scrollcheck telegram`: the python-telegram-bot Application, in polling or webhook mode.

Environment (see docs/telegram.md; parsed in bot/settings.py):
  TELEGRAM_BOT_TOKEN        required; from @BotFather
  TELEGRAM_API_BASE_URL     optional; PTB `base_url`, e.g. http://127.0.0.1:8081/bot for a
                            self-hosted Bot API server (and for the tests' stand-in)
  TELEGRAM_WEBHOOK_URL      optional; when set, run a webhook server instead of long polling
  TELEGRAM_WEBHOOK_LISTEN   webhook listen address, default 127.0.0.1 (put a TLS proxy in front)
  TELEGRAM_WEBHOOK_PORT     webhook port, default 8443
  TELEGRAM_WEBHOOK_SECRET   the secret token Telegram must send; default: generated once and kept
                            in .secrets/telegram-webhook.secret (requests without it get 403)
  SCROLLCHECK_RASA_URL      Rasa's URL, default http://127.0.0.1:5005 (or --rasa-url)
  SCROLLCHECK_ACTION_URL    the action server's webhook, default http://127.0.0.1:5055/webhook (or
                            --action-url; its /health tells the gateway when custom actions are down)
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, List, Mapping, Optional, Sequence, TextIO, Tuple
from urllib.parse import urlsplit

from telegram import TelegramObject, Update
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder

from bot import settings as env_settings
from bot.gateway import DEFAULT_TIMEOUT_SECONDS, Gateway
from bot.logformat import SafeFormatter
from bot.logformat import configure as configure_root_logging
from bot.privacy.pseudonym import (
    DEFAULT_SECRETS_DIR,
    Pseudonymiser,
    SecretError,
    load_or_create_secret_file,
)
from bot.telegram.aiohttp_request import AiohttpRequest
from bot.telegram.handlers import TelegramFrontEnd
from bot.telegram.inbox import INBOX_FILE, Inbox, InboxInUse, JournalingQueue, bot_key

logger = logging.getLogger(__name__)

DEFAULT_RASA_URL = env_settings.RASA_URL.default
DEFAULT_WEBHOOK_LISTEN = env_settings.TELEGRAM_WEBHOOK_LISTEN.default
DEFAULT_WEBHOOK_PORT = env_settings.TELEGRAM_WEBHOOK_PORT.default
WEBHOOK_SECRET_FILE = DEFAULT_SECRETS_DIR / "telegram-webhook.secret"
RATE_LIMIT_RETRIES = 3  # AIORateLimiter: retries after a 429, each after retry_after
# No overall cap on our own sending. PTB's default (30 requests/s across all chats) is Telegram's
# figure for *bulk notifications*; a bot that only answers users is not held to it (Bot FAQ; the
# grammY flood-limit guide), and with ~2.5 calls per user message it capped the whole bot at
# ~12 messages/s (benchmarks/full_path.py). Telegram's 429s are still honoured and retried, and
# groups keep PTB's 20/min (we only send there to say we leave).
OVERALL_MAX_RATE = 0
TELEGRAM_READ_TIMEOUT = 10.0  # per Bot API call (getUpdates adds its long-poll time to this)
BOT_API_CONNECTIONS = 256  # concurrent Bot API calls (replies to many chats at once)
BOOTSTRAP_RETRIES = 10  # getMe/setWebhook at start: retried on network errors
POLL_TIMEOUT_SECONDS = 30  # long-polling: how long Telegram may hold a getUpdates open
ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what Telegram accepts as secret_token

# Third-party loggers that would print tokens (httpx logs every URL, and the Bot API URL contains
# the token) or whole updates with names (PTB at DEBUG).
QUIET_LOGGERS = ("httpx", "httpcore", "telegram", "hpack", "tornado.access", "aiohttp.access")


# A missing or malformed setting; the message says which environment variable.
ConfigError = env_settings.SettingError


@dataclass(frozen=True)
class TelegramSettings:
    token: str
    base_url: Optional[str] = None
    webhook_url: Optional[str] = None
    webhook_listen: str = DEFAULT_WEBHOOK_LISTEN
    webhook_port: int = DEFAULT_WEBHOOK_PORT
    webhook_secret: Optional[str] = None

    @classmethod
    def from_env(
        cls, environ: Optional[Mapping[str, str]], *, secret_file: Path = WEBHOOK_SECRET_FILE
    ) -> "TelegramSettings":
        token = env_settings.TELEGRAM_BOT_TOKEN.get(environ)
        if not token:
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is not set (create a bot with @BotFather, see docs/telegram.md)"
            )
        webhook_url = env_settings.TELEGRAM_WEBHOOK_URL.get(environ) or None
        port = env_settings.TELEGRAM_WEBHOOK_PORT.get(environ)
        secret = None
        if webhook_url:
            secret = env_settings.TELEGRAM_WEBHOOK_SECRET.get(
                environ
            ) or load_or_create_secret_file(secret_file)
            if not _SECRET_TOKEN.match(secret):  # a hand-edited secret file
                raise ConfigError(
                    f"the webhook secret in {secret_file} must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
                )
        return cls(
            token=token,
            base_url=env_settings.TELEGRAM_API_BASE_URL.get(environ) or None,
            webhook_url=webhook_url,
            webhook_listen=env_settings.TELEGRAM_WEBHOOK_LISTEN.get(environ),
            webhook_port=port,
            webhook_secret=secret,
        )

    @property
    def webhook_path(self) -> str:
        """The path part of the webhook URL: the local server listens on the same path."""
        return urlsplit(self.webhook_url or "").path.lstrip("/")

    def __repr__(self) -> str:  # keep the token and the secret out of any traceback or log
        return f"TelegramSettings(webhook={'on' if self.webhook_url else 'off'}, base_url={self.base_url!r})"


def build_application(
    settings: TelegramSettings,
    gateway: Gateway,
    pseudonymiser: Pseudonymiser,
    *,
    inbox: Optional[Inbox] = None,
) -> Application:
    """The Application with our handlers; no JobQueue (the extra is not installed, nor needed).

    With an `inbox`, updates fetched but not yet answered survive the process (bot.telegram.inbox).
    """
    front_end = TelegramFrontEnd(gateway, pseudonymiser, inbox=inbox)
    builder: ApplicationBuilder = (
        Application.builder()
        .token(settings.token)
        .job_queue(None)
        .concurrent_updates(
            False
        )  # handlers only enqueue; bot.telegram.lanes gives the concurrency
        .rate_limiter(
            AIORateLimiter(overall_max_rate=OVERALL_MAX_RATE, max_retries=RATE_LIMIT_RETRIES)
        )
        # aiohttp rather than PTB's default httpx: a fraction of the CPU per Bot API call
        .request(
            AiohttpRequest(
                connection_pool_size=BOT_API_CONNECTIONS, read_timeout=TELEGRAM_READ_TIMEOUT
            )
        )
        .get_updates_request(
            TolerantUpdatesRequest(connection_pool_size=1, read_timeout=TELEGRAM_READ_TIMEOUT)
        )
        .post_init(front_end.post_init)
        .post_shutdown(front_end.post_shutdown)
    )
    if settings.base_url:
        builder = builder.base_url(settings.base_url)
    if inbox is not None:
        builder = builder.update_queue(JournalingQueue(inbox))
    application = builder.build()
    front_end.install(application)
    application.bot_data["front_end"] = front_end
    return application


class TolerantUpdatesRequest(AiohttpRequest):
    """getUpdates with each update that cannot be read replaced by an empty one.

    PTB reads a getUpdates answer as a whole: one update it cannot parse (a missing field, a field
    of an unexpected type) fails the batch, PTB logs the raw batch (texts, names, ids) and fetches
    the same batch again, for ever, so the bot is deaf to everyone (found by tests/fuzz). Here the
    unreadable update keeps only its update_id, so the offset moves past it, and only the
    exception's type is logged. Filtered in `do_request`, PTB's extension point (`post` is final).
    """

    async def do_request(self, *args: Any, **kwargs: Any) -> Tuple[int, bytes]:
        status, payload = await super().do_request(*args, **kwargs)
        try:
            body = json.loads(payload) if status == 200 else None
        except ValueError:
            return status, payload  # PTB reports an unreadable answer itself
        if not isinstance(body, dict) or not isinstance(body.get("result"), list):
            return status, payload
        result = body["result"]
        readable = [kept for kept in map(_readable_update, result) if kept is not None]
        if len(readable) == len(result) and all(a is b for a, b in zip(readable, result)):
            return status, payload  # the usual case: nothing to rewrite
        body["result"] = readable
        return status, json.dumps(body).encode("utf-8")


def _readable_update(update: Any) -> Optional[Any]:
    """The update if PTB can read it; else only its update_id (or None without one)."""
    try:
        Update.de_json(update, None)
        return update
    except Exception as exc:
        logger.warning(
            "dropped an update that could not be read: %s", type(exc).__name__, exc_info=True
        )
    update_id = update.get("update_id") if isinstance(update, dict) else None
    return {"update_id": update_id} if isinstance(update_id, int) else None


def run(
    application: Application,
    settings: TelegramSettings,
    *,
    handle_signals: bool = True,
    poll_timeout: int = POLL_TIMEOUT_SECONDS,
) -> None:
    """Run until stopped: webhook mode when TELEGRAM_WEBHOOK_URL is set, else long polling.

    With `handle_signals` SIGINT/SIGTERM/SIGABRT stop it gracefully (PTB's default); a caller that
    runs it in a thread passes False and stops it with `application.stop_running()`.
    """
    # Never drop pending updates: what users sent while the front end was down is answered on start.
    common: dict = {
        "allowed_updates": ALLOWED_UPDATES,
        "bootstrap_retries": BOOTSTRAP_RETRIES,
        "drop_pending_updates": False,
    }
    if not handle_signals:
        common["stop_signals"] = None
    if settings.webhook_url:
        logger.info(
            "starting the Telegram front end (webhook on %s:%d)",
            settings.webhook_listen,
            settings.webhook_port,
        )
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=settings.webhook_path,
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret,
            **common,
        )
    else:
        logger.info("starting the Telegram front end (long polling)")
        application.run_polling(timeout=poll_timeout, **common)


# --- logging ------------------------------------------------------------------------------------

_RAW = (TelegramObject, dict, list)


class RedactingFormatter(SafeFormatter):
    """Belt and braces: Telegram objects in log arguments become their type name, and the bot token
    and webhook secret never appear in a formatted line; errors keep their stack frames but not
    their messages (bot.logformat)."""

    def __init__(self, fmt: str, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt, secrets=secrets)

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        # Raw updates too: PTB logs a dict or list of them when it cannot parse one (webhook mode).
        if isinstance(record.args, tuple) and any(isinstance(arg, _RAW) for arg in record.args):
            record = logging.makeLogRecord(record.__dict__)
            record.args = tuple(
                f"<{type(arg).__name__}>" if isinstance(arg, _RAW) else arg
                for arg in record.args or ()
            )
        return record


def quiet_third_party_loggers() -> None:
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def configure_logging(
    secrets: Iterable[str] = (), level: int = logging.INFO, stream: Optional[TextIO] = None
) -> None:
    formatter = RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", secrets)
    configure_root_logging(level, formatter=formatter, stream=stream)
    quiet_third_party_loggers()


# --- entry point --------------------------------------------------------------------------------


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="scrollcheck telegram", description="Run the Telegram front end."
    )
    parser.add_argument(
        "--rasa-url",
        default=env_settings.RASA_URL.get(),
        help="Rasa server URL (default: $SCROLLCHECK_RASA_URL or %(default)s)",
    )
    parser.add_argument(
        "--action-url",
        default=env_settings.ACTION_URL.get(),
        help="the action server's webhook URL; its /health tells the gateway when custom actions are down "
        "('' to skip; default: $SCROLLCHECK_ACTION_URL or %(default)s)",
    )
    parser.add_argument(
        "--rasa-timeout",
        type=float,
        default=DEFAULT_TIMEOUT_SECONDS,
        help="total seconds to wait for Rasa per message before the fail-safe answers (default %(default)s)",
    )
    return parser.parse_args(list(argv))


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        settings = TelegramSettings.from_env(None)
        pseudonymiser = Pseudonymiser.from_environment()
        in_flight = env_settings.RASA_IN_FLIGHT.get()
    except (ConfigError, SecretError) as exc:
        print(f"scrollcheck telegram: {exc}", file=sys.stderr)
        return 2
    configure_logging(secrets=(settings.token, settings.webhook_secret or ""))
    gateway = Gateway(
        args.rasa_url,
        action_url=args.action_url or None,
        timeout=args.rasa_timeout,
        rasa_in_flight=in_flight,
    )
    try:
        inbox: Optional[Inbox] = Inbox(
            env_settings.VAR_DIR.get() / INBOX_FILE,
            bot_key(settings.token, settings.base_url or ""),
        )
    except InboxInUse:  # a second front end on the same var/ (docs/deploy.md: give each its own)
        logger.warning(
            "the inbox of unanswered updates is in use by another process: running without it"
        )
        inbox = None
    application = build_application(settings, gateway, pseudonymiser, inbox=inbox)
    run(application, settings)
    return 0
