"""`scrollcheck console` as a real subprocess, against a stand-in Rasa and (marked rasa) the real one."""

from __future__ import annotations

import getpass
import os
import signal
import subprocess
import sys
import threading
import time
from typing import Optional

import pytest

from bot.privacy.pseudonym import ENV_SECRET, Pseudonymiser
from tests.stack import PROJECT_ROOT, CannedAnswer, RasaRequest, StandInRasa, free_port

SECRET = "console-test-secret-0123456789"


def console(rasa_url: str, *extra: str, action_url: Optional[str] = None) -> subprocess.Popen:
    env = dict(os.environ, **{ENV_SECRET: SECRET}, PYTHONUNBUFFERED="1")
    action_url = action_url or f"{rasa_url}/webhook"  # the stand-in answers /health too
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot.cli",
            "console",
            "--rasa-url",
            rasa_url,
            "--action-url",
            action_url,
            *extra,
        ],
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class OutputReader:
    """Collects a process's stdout in a thread, so a test can wait for a line without blocking."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.text = ""
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        while True:
            chunk = process.stdout.read(1)
            if not chunk:
                return
            self.text += chunk

    def wait_for(self, needle: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while needle not in self.text:
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} not in console output:\n{self.text}")
            time.sleep(0.05)
        return self.text


def first_turn_with_buttons(request: RasaRequest) -> CannedAnswer:
    if request.message == "hi":
        return CannedAnswer(
            [
                {
                    "recipient_id": request.sender,
                    "text": "Hi, I'm an automated assistant.\nShall we start?",
                    "buttons": [
                        {"title": "Yes", "payload": "/affirm"},
                        {"title": "No", "payload": "/deny"},
                    ],
                },
                {"recipient_id": request.sender, "custom": {"scrollcheck": {"disclosed": True}}},
            ]
        )
    return CannedAnswer([{"recipient_id": request.sender, "text": f"echo: {request.message}"}])


def test_console_introduces_numbers_buttons_and_sends_payloads(stand_in_rasa: StandInRasa) -> None:
    stand_in_rasa.responder = first_turn_with_buttons
    process = console(stand_in_rasa.url)
    out, err = process.communicate("1\n\nfree text, as typed\n2\n", timeout=120)
    assert process.returncode == 0, err
    assert [r.message for r in stand_in_rasa.received()] == [
        "hi",
        "/affirm",
        "free text, as typed",
        "2",
    ], "a number picks a button only while that question's buttons are shown"
    expected_sender = Pseudonymiser(SECRET).pseudonym(f"console:{getpass.getuser()}")
    assert {r.sender for r in stand_in_rasa.received()} == {expected_sender}
    assert "bot> Hi, I'm an automated assistant.\n     Shall we start?\n" in out
    assert "  1) Yes\n" in out and "  2) No\n" in out
    assert "echo: free text, as typed" in out and "Bye" in out


def test_console_fresh_starts_a_new_conversation(stand_in_rasa: StandInRasa) -> None:
    for _ in range(2):
        process = console(stand_in_rasa.url, "--fresh")
        process.communicate("", timeout=120)
    senders = [r.sender for r in stand_in_rasa.received()]
    assert len(senders) == 2 and senders[0] != senders[1]


def test_console_waits_until_rasa_is_reachable() -> None:
    port = free_port()
    process = console(f"http://127.0.0.1:{port}", "--wait", "60")
    reader = OutputReader(process)
    reader.wait_for("Waiting for the assistant")
    server = StandInRasa().start(port=port)
    try:
        reader.wait_for("bot> echo: hi")
        assert process.stdin is not None
        process.stdin.close()
        assert process.wait(timeout=30) == 0
    finally:
        server.stop()


def test_console_gives_up_after_the_bound_with_a_clear_message() -> None:
    process = console(f"http://127.0.0.1:{free_port()}", "--wait", "1")
    out, err = process.communicate("", timeout=60)
    assert process.returncode == 1
    assert "did not answer" in err and "make run" in err


def test_console_ctrl_c_exits_cleanly(stand_in_rasa: StandInRasa) -> None:
    process = console(stand_in_rasa.url)
    reader = OutputReader(process)
    reader.wait_for("you> ")
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == 0
    time.sleep(0.2)
    assert "Bye" in reader.text
    assert process.stderr is not None and "Traceback" not in process.stderr.read()


def test_console_goes_through_the_fail_safe(stand_in_rasa: StandInRasa) -> None:
    from bot.safety import detect
    from bot.safety.replies import crisis_reply

    stand_in_rasa.responder = lambda request: CannedAnswer(status=500, raw_text="boom")
    process = console(stand_in_rasa.url)
    out, err = process.communicate("i want to kill myself\n", timeout=120)
    assert process.returncode == 0
    first_line = crisis_reply(detect("i want to kill myself"), None).messages[0].splitlines()[0]
    assert first_line in out


def test_console_prints_the_crisis_reply_before_a_slow_rasa_answers(
    stand_in_rasa: StandInRasa,
) -> None:
    from bot.safety import detect
    from bot.safety.replies import crisis_reply

    text = "i keep thinking about killing myself"
    stand_in_rasa.responder = lambda request: CannedAnswer(
        [{"recipient_id": request.sender, "text": f"echo: {request.message}"}],
        delay=4.0 if (request.metadata or {}).get("safety_replied") else 0.0,
    )
    process = console(stand_in_rasa.url, "--fresh", "--language-code", "en-GB")
    reader = OutputReader(process)
    reader.wait_for("you> ")
    assert process.stdin is not None
    started = time.monotonic()
    process.stdin.write(text + "\n")
    process.stdin.flush()
    first_line = crisis_reply(detect(text, lang="en"), "GB", "en").messages[0].splitlines()[0]
    reader.wait_for(first_line, timeout=10)
    assert time.monotonic() - started < 2.0, "printed at once, not after Rasa's 4 s"
    assert f"echo: {text}" not in reader.text
    reader.wait_for(f"echo: {text}", timeout=15)
    process.stdin.close()
    assert process.wait(timeout=30) == 0
    assert reader.text.count(first_line) == 1
    assert stand_in_rasa.received()[-1].metadata["language_code"] == "en-GB"


@pytest.mark.rasa
def test_console_with_the_real_rasa(rasa_stack) -> None:
    import yaml

    domain = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text())
    disclosure = domain["responses"]["utter_disclosure"][0]["text"]
    age_question = domain["responses"]["utter_ask_age_band"][0]["text"]
    process = console(rasa_stack.rasa_url, "--fresh", action_url=rasa_stack.action_url)
    out, err = process.communicate("1\n", timeout=180)
    assert process.returncode == 0, err
    assert disclosure.splitlines()[0] in out
    assert "1) Yes" in out, "the consent buttons are numbered"
    assert age_question in out.split("you> ", 1)[1], "typing 1 gave consent and moved on"
