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
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.telegram.simulated_users import (  # noqa: E402
    RISKY,
    SCRIPTS,
    Chat,
    Load,
    TimedBotApi,
    announced_within,
    make_user,
    script_for,
)

RESULTS = ROOT / "benchmarks" / "results"
TICKS = os.sysconf("SC_CLK_TCK")

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
            hwm = next(
                int(line.split()[1]) * 1024
                for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                if line.startswith("VmHWM")
            )
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
        env = dict(
            os.environ,
            TELEGRAM_BOT_TOKEN=self.api.token,
            TELEGRAM_API_BASE_URL=self.api.base_url,
            DATABASE_URL=f"sqlite:///{self.workdir / 'bench.db'}",
            RASA_TELEMETRY_ENABLED="false",
            SCROLLCHECK_RASA_PORT=str(free_port()),
            SCROLLCHECK_ACTION_PORT=str(free_port()),
        )
        command = [
            str(Path(sys.executable).parent / "scrollcheck"),
            "run",
            "--front-end",
            "telegram",
            "--no-review",
        ]
        if self.model:
            command += ["--model", str(self.model)]
        log = open(self.workdir / "runner.log", "wb")
        started = time.monotonic()
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
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
    return {
        path: path.stat().st_size
        for path in [*(ROOT / "var" / "log").glob("*.log"), *workdir.glob("*.log")]
    }


def log_lines_with_user_text(workdir: Path, sizes_before: Dict[Path, int]) -> Dict[str, int]:
    """Per log file: lines written during the run that hold any text the simulated users sent."""
    # Whole sentences only: a topic name such as "cyberbullying" is a legitimate word in a log.
    sent = {
        value
        for script in [*SCRIPTS.values(), RISKY]
        for kind, value in script
        if kind == "say" and len(value.split()) >= 2
    }
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


async def one_run(
    stack: Stack, chats: int, think: float, seed: int, user_base: int
) -> Dict[str, Any]:
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
    cpu = {
        role: (after[role][0] - before.get(role, (0.0, 0))[0]) / max(len(turns), 1)
        for role in after
    }
    return {
        "chats": chats,
        "think_mean_s": think,
        "messages": len(turns),
        "seconds": elapsed,
        "msg_per_s": len(turns) / elapsed if elapsed else 0.0,
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "p99": percentile(latencies, 0.99),
        "timeouts": sum(1 for c in load.chats.values() if c.stuck == "timeout"),
        "stuck": sorted({c.stuck for c in load.chats.values() if c.stuck and c.stuck != "timeout"}),
        "stuck_chats": sum(1 for c in load.chats.values() if c.stuck and c.stuck != "timeout"),
        "unavailable": sum(1 for t in turns if t.unavailable),
        "busy_notes": sum(1 for t in turns if t.busy),
        # Late: the answer took over 2 s. Announced: the busy note or "typing…" came within 2 s.
        "late": sum(1 for t in answered if t.first - t.sent > 2.0),
        "late_announced": sum(
            1
            for c in load.chats.values()
            for t in c.turns
            if t.first is not None
            and t.first - t.sent > 2.0
            and announced_within(stack.api, c, t, 2.0)
        ),
        "risk_first_reply_max": max(risk) if risk else None,
        "risk_messages": len(risk),
        "cpu_s_per_message": cpu,
        "peak_rss_mb": {role: after[role][1] / 2**20 for role in after},
    }


# Issue 11's measurement on main before this work (same kind of load, same machines), per
# (chats, with think time).
BEFORE = {
    (1, False): "–, 90–120 ms / 150–350 ms",
    (20, False): "12.7, 1.1 s / 2.4 s",
    (100, False): "13.5, 6.7 s / 13.2 s",
    (100, True): "6.8–11.3, 3.6–10.0 s / 6.7–11.1 s (1–59 % fail-safe)",
}


def fmt(value: Optional[float], unit: str = "s") -> str:
    if value is None:
        return "–"
    return f"{value * 1000:.0f} ms" if unit == "s" and value < 1 else f"{value:.2f} {unit}"


def table(results: List[Dict[str, Any]]) -> str:
    roles = ["front end + gateway", "rasa run", "action server"]
    lines = [
        '| chats | think | msg/s | first reply p50 / p95 / p99 | timeouts | fail-safe | "busy" notes | late (announced in 2 s) | chats stuck | risk reply (max) | CPU ms/msg (front, rasa, actions) | peak RSS MB (front, rasa, actions) | before (issue 11): msg/s, p50 / p95 |',
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        cpu = ", ".join(f"{r['cpu_s_per_message'].get(role, 0) * 1000:.0f}" for role in roles)
        rss = ", ".join(f"{r['peak_rss_mb'].get(role, 0):.0f}" for role in roles)
        think = "back to back" if not r["think_mean_s"] else f"{r['think_mean_s']:.0f} s"
        lines.append(
            f"| {r['chats']} | {think} | {r['msg_per_s']:.1f} | {fmt(r['p50'])} / {fmt(r['p95'])} / {fmt(r['p99'])} | "
            f"{r['timeouts']} | {r['unavailable']} | {r['busy_notes']} | {r.get('late', 0)} ({r.get('late_announced', 0)}) | {r['stuck_chats']} | "
            f"{fmt(r['risk_first_reply_max'])} ({r['risk_messages']}) | {cpu} | {rss} | {BEFORE.get((r['chats'], bool(r['think_mean_s'])), '–')} |"
        )
    return "\n".join(lines)


async def main_async(args: argparse.Namespace) -> int:
    api = TimedBotApi().start()
    results: List[Dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="scrollcheck-bench-") as tmp:
        stack = Stack(api, args.model, Path(tmp))
        sizes = log_sizes(Path(tmp))
        try:
            stack.start()
            print(
                f"cold start (spawn until the first reply to /start): {stack.cold_start:.1f} s",
                flush=True,
            )
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
    report = "\n".join(
        [
            f"# Full path under load ({dt.date.today().isoformat()})",
            "",
            f"Command: `{' '.join(shlex.quote(a) for a in [sys.executable.replace(str(ROOT) + '/', ''), *sys.argv])}`  ",
            f"Machine: {platform.platform()}, {os.cpu_count()} cores, load average before the run {os.getloadavg()[0]:.1f}.  ",
            f"Model: {args.model or 'models/scrollcheck.tar.gz'}. Cold start: {cold:.1f} s.",
            "",
            table(results),
            "",
            "First reply: from the update being available to the bot's first message of that turn's answer "
            '(a "lots of people are chatting" note, sent when an answer takes over 1.5 s, is counted apart). '
            'Timeouts: chats whose message got no answer within 30 s. Fail-safe: "briefly unavailable" answers. '
            "Chats stuck: the bot's answer did not offer the button the script expected (a wrong turn). "
            "Risk reply: the slowest first reply to a risk message (how many in brackets).",
            "",
            f"Log lines holding a text the users sent (every log written during the run): {sum(leaks.values())}"
            + (f" ({', '.join(f'{k}: {v}' for k, v in leaks.items())})" if leaks else "")
            + ".",
        ]
    )
    print("\n" + report)
    if not args.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        stem = args.save_as or "full_path"
        (RESULTS / f"{stem}.md").write_text(report + "\n", encoding="utf-8")
        (RESULTS / f"{stem}.json").write_text(
            json.dumps(
                {"cold_start_s": cold, "log_lines_with_user_text": leaks, "runs": results}, indent=2
            )
            + "\n",
            encoding="utf-8",
        )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--chats", type=int, nargs="+", default=[1, 20, 100, 300])
    parser.add_argument(
        "--modes", nargs="+", choices=["back-to-back", "think"], default=["back-to-back", "think"]
    )
    parser.add_argument(
        "--think", type=float, default=4.0, help="mean think time in seconds (exponential)"
    )
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--save-as", default=None, help="file name (without extension) under benchmarks/results/"
    )
    parser.add_argument("--no-save", action="store_true")
    return asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
