"""What a young person on Telegram experiences under load: the full path, measured end to end.

`scrollcheck run --front-end telegram` (what `make run` starts: action server, `rasa run` with the
SQL tracker store on SQLite, the Telegram front end with the gateway) talks to a stand-in Bot API
on loopback (tests/telegram/fake_bot_api.py). Simulated users in N private chats run scripted
check-ins through it: with the buttons, in free text, with interruptions ("why do you ask?"),
and one chat in ten sends a risk message in the middle. Each user waits for the bot's answer (the
next question, or a quiet second) before the next message, either at once ("back to back") or
after a think time drawn from an exponential distribution (mean 4 s).

Before the runs, ten chats (every script) warm the stack up, unmeasured. Reported per run:
messages per second, first-reply latency p50/p95/p99 (from the update being
available to the bot's first message of that turn), messages never answered within 30 s
(timeouts), "briefly unavailable" fail-safe answers, the crisis reply's latency for risk messages,
CPU seconds per message of each process (front end + gateway, `rasa run`, action server) and
their peak RSS; once per stack, the cold start (spawn until the first reply to /start).

Run:  .venv/bin/python benchmarks/full_path.py                  # 1, 20, 100, 300 chats, both modes
      .venv/bin/python benchmarks/full_path.py --chats 1 20 --modes back-to-back   # a quick look
      .venv/bin/python benchmarks/full_path.py --model PATH       # the same harness, another model
Results: stdout and benchmarks/results/full_path.md (+ .json), with the date, machine and command.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.telegram.fake_bot_api import FakeBotApi, FakeUser  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
REPLY_TIMEOUT = 30.0      # a message with no answer in this long counts as lost
QUIET = 1.0               # a turn without a question (buttons) ends after this much silence
RISK_TEXT = "honestly i just want to die"
TICKS = os.sysconf("SC_CLK_TCK")

# Scripts: ("say", text) or ("press", button title). All English, all ending the check-in.
ANSWERS = ["Often", "Sometimes", "Very often", "Rarely", "Never"]
BUTTONS = [("say", "/start"), ("press", "Yes, that's OK"), ("press", "16–17"), ("press", "UK"),
           ("press", "Fear of missing out"), *[("press", a) for a in ANSWERS], ("press", "Yes, share it")]
FREE_TEXT = [("say", "/start"), ("say", "yeah sure"), ("say", "im 16"), ("say", "ireland"), ("say", "comparing myself to others"),
             ("say", "sometimes"), ("say", "a lot"), ("say", "hardly ever"), ("say", "all the time tbh"), ("say", "never"),
             ("say", "no")]
INTERRUPTED = [("say", "/start"), ("say", "yes"), ("say", "why do you even ask that"), ("say", "17"), ("say", "uk"),
               ("say", "cyberbullying"), ("say", "never"), ("say", "what happens to my answers?"), ("say", "rarely"),
               ("say", "sometimes"), ("say", "never"), ("say", "rarely"), ("say", "yes")]
RISKY = [("say", "/start"), ("press", "Yes, that's OK"), ("press", "18–25"), ("press", "UK"),
         ("press", "Fear of missing out"), ("press", "Often"), ("say", RISK_TEXT), ("press", "No"), ("press", "Back to the check-in"),
         *[("press", a) for a in ANSWERS[1:]], ("press", "No, keep it private")]
SCRIPTS = {"buttons": BUTTONS, "free text": FREE_TEXT, "interruptions": INTERRUPTED}


def make_user(user_id: int) -> FakeUser:
    return FakeUser(id=user_id, first_name=f"Bench{user_id}", last_name="Load", username=f"bench_{user_id}", language_code="en-GB")


def script_for(index: int) -> Tuple[str, List[Tuple[str, str]]]:
    if index % 10 == 9:
        return "risk", RISKY
    name = list(SCRIPTS)[index % 3]
    return name, SCRIPTS[name]


# --- the stand-in Bot API, with the arrival time of every bot message ------------------------------

class TimedBotApi(FakeBotApi):
    """The tests' stand-in Bot API that also tells the benchmark when each bot message arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.listener: Optional[Any] = None

    async def _api_sendMessage(self, params: Dict[str, Any]) -> Dict[str, Any]:
        message = await super()._api_sendMessage(params)
        if self.listener is not None:
            self.listener(message, time.monotonic())
        return message


@dataclass
class Turn:
    sent: float
    first: Optional[float] = None     # the first message of the answer (a "busy" note is not one)
    unavailable: bool = False
    busy: bool = False
    risk: bool = False
    last: bool = False                # the script's last step: its answer has no buttons


@dataclass
class Chat:
    user: FakeUser
    script: List[Tuple[str, str]]
    arrivals: "asyncio.Queue[Tuple[Dict[str, Any], float]]" = field(default_factory=asyncio.Queue)
    turns: List[Turn] = field(default_factory=list)
    last_with_buttons: Optional[Dict[str, Any]] = None
    stuck: Optional[str] = None


class Load:
    def __init__(self, api: TimedBotApi, unavailable_prefix: str, busy_prefix: str, think_mean: float, seed: int) -> None:
        self.api, self.unavailable_prefix, self.think_mean = api, unavailable_prefix, think_mean
        self.busy_prefix = busy_prefix
        self.rng = random.Random(seed)
        self.chats: Dict[int, Chat] = {}
        self.loop = asyncio.get_running_loop()
        api.listener = lambda message, at: self.loop.call_soon_threadsafe(self._arrived, message, at)

    def _arrived(self, message: Dict[str, Any], at: float) -> None:
        chat = self.chats.get(message["chat"]["id"])
        if chat is not None:
            chat.arrivals.put_nowait((message, at))

    async def run_chat(self, chat: Chat) -> None:
        for step, (kind, value) in enumerate(chat.script):
            if self.think_mean:
                await asyncio.sleep(self.rng.expovariate(1 / self.think_mean))
            while not chat.arrivals.empty():  # late messages of an earlier turn
                chat.arrivals.get_nowait()
            turn = Turn(sent=time.monotonic(), risk=value == RISK_TEXT, last=step == len(chat.script) - 1)
            if kind == "say":
                self.api.send_text(chat.user, value)
            else:
                if chat.last_with_buttons is None:
                    chat.stuck = f"no buttons to press {value!r}"
                    return
                try:
                    self.api.press(chat.user, chat.last_with_buttons, value)
                except AssertionError:
                    chat.stuck = f"no button {value!r}"
                    return
            chat.turns.append(turn)
            if not await self._await_turn(chat, turn):
                return

    async def _await_turn(self, chat: Chat, turn: Turn) -> bool:
        """Wait for this step's answer: the next question (a message with buttons; for a risk
        message the Yes/No follow-up after the crisis reply), or for the last step a quiet second."""
        deadline = turn.sent + REPLY_TIMEOUT
        while True:
            timeout = QUIET if (turn.last and turn.first is not None) else deadline - time.monotonic()
            try:
                message, at = await asyncio.wait_for(chat.arrivals.get(), max(timeout, 0.01))
            except asyncio.TimeoutError:
                if turn.first is None or not turn.last:
                    chat.stuck = "timeout"
                    return False
                return True
            text = message.get("text", "")
            if text.startswith(self.busy_prefix):
                turn.busy = True
                continue
            if turn.first is None:
                turn.first = at
            if text.startswith(self.unavailable_prefix):
                turn.unavailable = True
            if message.get("reply_markup"):
                chat.last_with_buttons = message
                titles = [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
                if not turn.risk or "No" in titles:
                    return True


# --- the processes under test ----------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def descendants(pid: int) -> List[int]:
    found, queue = [], [pid]
    while queue:
        parent = queue.pop()
        try:
            children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found.append(child)
            queue.append(child)
    return found


def role_of(pid: int, runner: int) -> Optional[str]:
    if pid == runner:
        return "front end + gateway"
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    args = [c.decode(errors="replace") for c in cmd]
    if "run" in args and "actions" in args:
        return "action server"
    if "run" in args and any(a.endswith("rasa") for a in args[:2]):
        return "rasa run"
    return None


def sample(runner: int) -> Dict[str, Tuple[float, int]]:
    """Per role: (CPU seconds so far, peak RSS in bytes)."""
    out: Dict[str, Tuple[float, int]] = {}
    for pid in [runner, *descendants(runner)]:
        role = role_of(pid, runner)
        if role is None:
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu = (int(stat[11]) + int(stat[12])) / TICKS
            hwm = next(int(line.split()[1]) * 1024 for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmHWM"))
        except (OSError, StopIteration, IndexError, ValueError):
            continue
        before = out.get(role, (0.0, 0))
        out[role] = (before[0] + cpu, max(before[1], hwm))
    return out


class Stack:
    def __init__(self, api: TimedBotApi, model: Optional[Path], workdir: Path) -> None:
        self.api, self.model, self.workdir = api, model, workdir
        self.process: Optional[subprocess.Popen] = None
        self.cold_start: Optional[float] = None

    def start(self) -> None:
        env = dict(os.environ, TELEGRAM_BOT_TOKEN=self.api.token, TELEGRAM_API_BASE_URL=self.api.base_url,
                   DATABASE_URL=f"sqlite:///{self.workdir / 'bench.db'}", RASA_TELEMETRY_ENABLED="false",
                   SCROLLCHECK_RASA_PORT=str(free_port()), SCROLLCHECK_ACTION_PORT=str(free_port()))
        command = [str(Path(sys.executable).parent / "scrollcheck"), "run", "--front-end", "telegram", "--no-review"]
        if self.model:
            command += ["--model", str(self.model)]
        log = open(self.workdir / "runner.log", "wb")
        started = time.monotonic()
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        probe = make_user(999_000_001)
        self.api.send_text(probe, "/start")
        self.api.wait_for(lambda: self.api.bot_messages(probe.id), timeout=300)
        self.cold_start = time.monotonic() - started

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            # The runner starts Rasa and the action server in sessions of their own; if it has to
            # be killed they would outlive it, so they are collected first and ended after it.
            children = descendants(self.process.pid)
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
            for pid in children:
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass


def log_sizes(workdir: Path) -> Dict[Path, int]:
    return {path: path.stat().st_size for path in [*(ROOT / "var" / "log").glob("*.log"), *workdir.glob("*.log")]}


def log_lines_with_user_text(workdir: Path, sizes_before: Dict[Path, int]) -> Dict[str, int]:
    """Per log file: lines written during the run that hold any text the simulated users sent."""
    # Whole sentences only: a topic name such as "cyberbullying" is a legitimate word in a log.
    sent = {value for script in [*SCRIPTS.values(), RISKY] for kind, value in script if kind == "say" and len(value.split()) >= 2}
    found: Dict[str, int] = {}
    for path in sorted(log_sizes(workdir)):
        with path.open("rb") as handle:
            handle.seek(sizes_before.get(path, 0))
            written = handle.read().decode("utf-8", errors="replace")
        hits = sum(1 for line in written.splitlines() if any(text in line for text in sent))
        if hits:
            found[str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name)] = hits
    return found


def percentile(values: List[float], q: float) -> Optional[float]:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def one_run(stack: Stack, chats: int, think: float, seed: int, user_base: int) -> Dict[str, Any]:
    from bot.safety.replies import busy_note, unavailable_reply

    load = Load(stack.api, unavailable_reply(None, "en")[:40], busy_note("en")[:40], think, seed)
    for index in range(chats):
        _, script = script_for(index)
        user = make_user(user_base + index)
        load.chats[user.id] = Chat(user=user, script=script)
    assert stack.process is not None
    before = sample(stack.process.pid)
    started = time.monotonic()
    await asyncio.gather(*(load.run_chat(chat) for chat in load.chats.values()))
    elapsed = time.monotonic() - started
    after = sample(stack.process.pid)
    turns = [t for c in load.chats.values() for t in c.turns]
    answered = [t for t in turns if t.first is not None]
    latencies = [t.first - t.sent for t in answered]
    risk = [t.first - t.sent for t in answered if t.risk]
    cpu = {role: (after[role][0] - before.get(role, (0.0, 0))[0]) / max(len(turns), 1) for role in after}
    return {
        "chats": chats, "think_mean_s": think, "messages": len(turns), "seconds": elapsed,
        "msg_per_s": len(turns) / elapsed if elapsed else 0.0,
        "p50": percentile(latencies, 0.50), "p95": percentile(latencies, 0.95), "p99": percentile(latencies, 0.99),
        "timeouts": sum(1 for c in load.chats.values() if c.stuck == "timeout"),
        "stuck": sorted({c.stuck for c in load.chats.values() if c.stuck and c.stuck != "timeout"}),
        "stuck_chats": sum(1 for c in load.chats.values() if c.stuck and c.stuck != "timeout"),
        "unavailable": sum(1 for t in turns if t.unavailable),
        "busy_notes": sum(1 for t in turns if t.busy),
        "risk_first_reply_max": max(risk) if risk else None, "risk_messages": len(risk),
        "cpu_s_per_message": cpu, "peak_rss_mb": {role: after[role][1] / 2**20 for role in after},
    }


def fmt(value: Optional[float], unit: str = "s") -> str:
    if value is None:
        return "–"
    return f"{value * 1000:.0f} ms" if unit == "s" and value < 1 else f"{value:.2f} {unit}"


def table(results: List[Dict[str, Any]]) -> str:
    roles = ["front end + gateway", "rasa run", "action server"]
    lines = ["| chats | think | msg/s | first reply p50 / p95 / p99 | timeouts | fail-safe | \"busy\" notes | chats stuck | risk reply (max) | CPU ms/msg (front, rasa, actions) | peak RSS MB (front, rasa, actions) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        cpu = ", ".join(f"{r['cpu_s_per_message'].get(role, 0) * 1000:.0f}" for role in roles)
        rss = ", ".join(f"{r['peak_rss_mb'].get(role, 0):.0f}" for role in roles)
        think = "back to back" if not r["think_mean_s"] else f"{r['think_mean_s']:.0f} s"
        lines.append(f"| {r['chats']} | {think} | {r['msg_per_s']:.1f} | {fmt(r['p50'])} / {fmt(r['p95'])} / {fmt(r['p99'])} | "
                     f"{r['timeouts']} | {r['unavailable']} | {r['busy_notes']} | {r['stuck_chats']} | {fmt(r['risk_first_reply_max'])} ({r['risk_messages']}) | {cpu} | {rss} |")
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> int:
    api = TimedBotApi().start()
    results: List[Dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="scrollcheck-bench-") as tmp:
        stack = Stack(api, args.model, Path(tmp))
        sizes = log_sizes(Path(tmp))
        try:
            stack.start()
            print(f"cold start (spawn until the first reply to /start): {stack.cold_start:.1f} s", flush=True)
            # Not measured: one chat per script, so every code path has run once (Rasa's first form,
            # first action call, first crisis reply each load something on first use).
            await one_run(stack, 10, 0.0, args.seed, 900_000)
            base = 1_000_000
            for mode in args.modes:
                for chats in args.chats:
                    think = 0.0 if mode == "back-to-back" else args.think
                    result = await one_run(stack, chats, think, args.seed, base)
                    base += chats + 1
                    results.append(result)
                    print(table([result]).splitlines()[-1], *result["stuck"], flush=True)
        finally:
            stack.stop()
            api.stop()
        cold = stack.cold_start
        leaks = log_lines_with_user_text(Path(tmp), sizes)
    report = "\n".join([
        f"# Full path under load ({dt.date.today().isoformat()})", "",
        f"Command: `{' '.join(shlex.quote(a) for a in [sys.executable.replace(str(ROOT) + '/', ''), *sys.argv])}`  ",
        f"Machine: {platform.platform()}, {os.cpu_count()} cores, load average before the run {os.getloadavg()[0]:.1f}.  ",
        f"Model: {args.model or 'models/scrollcheck.tar.gz'}. Cold start: {cold:.1f} s.", "",
        table(results), "",
        "First reply: from the update being available to the bot's first message of that turn's answer "
        "(a \"lots of people are chatting\" note, sent when an answer takes over 1.5 s, is counted apart). "
        "Timeouts: chats whose message got no answer within 30 s. Fail-safe: \"briefly unavailable\" answers. "
        "Chats stuck: the bot's answer did not offer the button the script expected (a wrong turn). "
        "Risk reply: the slowest first reply to a risk message (how many in brackets).", "",
        f"Log lines holding a text the users sent (every log written during the run): {sum(leaks.values())}"
        + (f" ({', '.join(f'{k}: {v}' for k, v in leaks.items())})" if leaks else "") + ".",
    ])
    print("\n" + report)
    if not args.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        stem = args.save_as or "full_path"
        (RESULTS / f"{stem}.md").write_text(report + "\n", encoding="utf-8")
        (RESULTS / f"{stem}.json").write_text(json.dumps({"cold_start_s": cold, "log_lines_with_user_text": leaks, "runs": results}, indent=2) + "\n", encoding="utf-8")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chats", type=int, nargs="+", default=[1, 20, 100, 300])
    parser.add_argument("--modes", nargs="+", choices=["back-to-back", "think"], default=["back-to-back", "think"])
    parser.add_argument("--think", type=float, default=4.0, help="mean think time in seconds (exponential)")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--save-as", default=None, help="file name (without extension) under benchmarks/results/")
    parser.add_argument("--no-save", action="store_true")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
