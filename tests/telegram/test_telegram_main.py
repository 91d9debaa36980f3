"""`scrollcheck telegram` as a real process, its settings, and its log redaction."""

from __future__ import annotations

import logging
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot.privacy.pseudonym import ENV_SECRET
from bot.telegram.app import ConfigError, RedactingFormatter, TelegramSettings
from tests.stack import PROJECT_ROOT, StandInRasa
from tests.telegram.fake_bot_api import FakeBotApi
from tests.telegram.harness import distinctive_user


def telegram_process(env_extra: dict, *args: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELEGRAM_")}
    env.update({ENV_SECRET: "telegram-main-test-secret-0123"}, **env_extra)
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "telegram", *args],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_missing_token_is_a_clear_error() -> None:
    process = telegram_process({})
    out, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "TELEGRAM_BOT_TOKEN is not set" in err and "BotFather" in err


def test_webhook_url_must_be_https() -> None:
    process = telegram_process(
        {"TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_WEBHOOK_URL": "http://insecure.example/hook"}
    )
    out, err = process.communicate(timeout=60)
    assert process.returncode == 2 and "https://" in err


def test_polling_process_answers_and_stops_cleanly_on_sigterm(
    fake_api: FakeBotApi, stand_in_rasa: StandInRasa
) -> None:
    user = distinctive_user()
    process = telegram_process(
        {"TELEGRAM_BOT_TOKEN": fake_api.token, "TELEGRAM_API_BASE_URL": fake_api.base_url},
        "--rasa-url",
        stand_in_rasa.url,
        "--action-url",
        stand_in_rasa.action_url,
    )
    try:
        fake_api.wait_for(lambda: fake_api.calls("getUpdates"), timeout=60)
        assert fake_api.commands is not None, "setMyCommands ran in post_init"
        fake_api.send_command(user, "/start")
        replies = fake_api.wait_for_turn(user.id, 0)
        assert "echo: /greet" in [m["text"] for m in replies]
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "long polling" in err
    for secret in (fake_api.token, str(user.id), user.first_name, user.username):
        assert secret not in err + out


def test_webhook_settings_generate_and_keep_a_private_secret(tmp_path: Path) -> None:
    secret_file = tmp_path / "secrets" / "telegram-webhook.secret"
    env = {"TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/tg/hook"}
    first = TelegramSettings.from_env(env, secret_file=secret_file)
    second = TelegramSettings.from_env(env, secret_file=secret_file)
    assert first.webhook_secret and first.webhook_secret == second.webhook_secret
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert (
        first.webhook_path == "tg/hook"
        and first.webhook_listen == "127.0.0.1"
        and first.webhook_port == 8443
    )
    assert "1:x" not in repr(first) and first.webhook_secret not in repr(first)
    given = TelegramSettings.from_env(
        {**env, "TELEGRAM_WEBHOOK_SECRET": "given_Secret-1"}, secret_file=secret_file
    )
    assert given.webhook_secret == "given_Secret-1"
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
        TelegramSettings.from_env(
            {**env, "TELEGRAM_WEBHOOK_SECRET": "has spaces!"}, secret_file=secret_file
        )
    with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_PORT"):
        TelegramSettings.from_env({**env, "TELEGRAM_WEBHOOK_PORT": "http"}, secret_file=secret_file)


def test_polling_settings_need_no_secret(tmp_path: Path) -> None:
    settings = TelegramSettings.from_env(
        {"TELEGRAM_BOT_TOKEN": "1:x", "TELEGRAM_API_BASE_URL": "http://127.0.0.1:1/bot"},
        secret_file=tmp_path / "never-created",
    )
    assert settings.webhook_url is None and settings.base_url == "http://127.0.0.1:1/bot"
    assert not (tmp_path / "never-created").exists()


def test_redacting_formatter_hides_tokens_and_telegram_objects() -> None:
    from telegram import Chat

    user = distinctive_user()
    formatter = RedactingFormatter("%(message)s", secrets=["123:SECRET-TOKEN"])
    chat = Chat(id=user.id, type="private", first_name=user.first_name, username=user.username)
    record = logging.LogRecord(
        "telegram.ext.Application",
        logging.CRITICAL,
        __file__,
        1,
        "Error for update %s via https://api.telegram.org/bot123:SECRET-TOKEN/getMe",
        (chat,),
        None,
    )
    line = formatter.format(record)
    assert line == "Error for update <Chat> via https://api.telegram.org/bot<redacted>/getMe"
