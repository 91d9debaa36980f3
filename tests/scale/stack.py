"""The distributed setup of docs/deploy.md, on loopback: what the scale-out test runs.

    stand-in Bot API ──HTTPS webhook──▶ nginx ──hash(chat)──▶ Telegram front end × N (webhook mode)
                                          │                         │ gateway
                                          ├──round robin──▶ `rasa run` × N ──▶ PostgreSQL (trackers)
                                          │                    │      └──────▶ Redis (lock store)
                                          └──round robin──▶ action server × N ──▶ PostgreSQL

Every process is the real one (`rasa run`, `rasa run actions`, `scrollcheck telegram`, Debian's
nginx); PostgreSQL and Redis are the machine's own (127.0.0.1:5432 and :6379), with a database
and a lock-store key prefix of the test's own. The nginx configuration is deploy/nginx.conf.template,
the endpoints are bot/endpoints.py's: the same files docs/deploy.md describes.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from bot.endpoints import endpoints, write_endpoints
from tests.stack import BIN, PROJECT_ROOT, free_port, http_status, service_env

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
TEMPLATE = PROJECT_ROOT / "deploy" / "nginx.conf.template"
REDIS_URL = "redis://127.0.0.1:6379/0"
WEBHOOK_PATH = "telegram/webhook"
# Rasa's lock on a conversation outlives a replica that dies holding it; the other replicas wait
# this long before taking the conversation over. Longer than any turn (the gateway gives up at
# 10 s), much shorter than Rasa's default of 60 s.
TICKET_LOCK_LIFETIME = "15"
START_TIMEOUT = 420.0


@dataclass
class Replica:
    name: str
    port: int
    process: Optional[subprocess.Popen] = None


@dataclass
class ScaleOutStack:
    workdir: Path
    model: Path
    database_url: str
    bot_api_base_url: str
    bot_token: str
    replicas: int = 2
    lock_prefix: str = field(default_factory=lambda: "scale" + secrets.token_hex(4))
    rasa_port: int = field(default_factory=free_port)  # nginx → rasa replicas
    actions_port: int = field(default_factory=free_port)  # nginx → action servers
    webhook_port: int = field(default_factory=free_port)  # nginx (TLS) → front ends
    rasa: List[Replica] = field(default_factory=list)
    actions: List[Replica] = field(default_factory=list)
    front_ends: List[Replica] = field(default_factory=list)
    nginx: Optional[subprocess.Popen] = None
    webhook_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    pseudonym_secret: str = field(default_factory=lambda: secrets.token_hex(32))

    # -- configuration

    @property
    def webhook_url(self) -> str:
        return f"https://127.0.0.1:{self.webhook_port}/{WEBHOOK_PATH}"

    def env(self) -> Dict[str, str]:
        env = service_env(self.database_url)
        env.update(
            TICKET_LOCK_LIFETIME=TICKET_LOCK_LIFETIME,
            # Every front end pseudonymises a chat the same way: one secret for all replicas.
            SCROLLCHECK_PSEUDONYM_SECRET=self.pseudonym_secret,
            TELEGRAM_BOT_TOKEN=self.bot_token,
            TELEGRAM_API_BASE_URL=self.bot_api_base_url,
            TELEGRAM_WEBHOOK_URL=self.webhook_url,
            TELEGRAM_WEBHOOK_SECRET=self.webhook_secret,
            TELEGRAM_WEBHOOK_LISTEN="127.0.0.1",
        )
        return env

    def nginx_conf(self) -> Path:
        run_dir = self.workdir / "nginx"
        run_dir.mkdir(parents=True, exist_ok=True)
        certificate, key = run_dir / "tls.crt", run_dir / "tls.key"
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=127.0.0.1",
                "-keyout",
                str(key),
                "-out",
                str(certificate),
            ],
            check=True,
            capture_output=True,
            timeout=60,
        )

        def servers(replicas: List[Replica]) -> str:
            # max_fails=1 fail_timeout=10s: a replica that refused a connection is left alone for 10 s
            return "\n".join(
                f"        server 127.0.0.1:{r.port} max_fails=1 fail_timeout=10s;" for r in replicas
            )

        values = {
            "run_dir": str(run_dir),
            "rasa_servers": servers(self.rasa),
            "action_servers": servers(self.actions),
            "front_end_servers": servers(self.front_ends),
            "rasa_port": str(self.rasa_port),
            "actions_port": str(self.actions_port),
            "webhook_listen": "127.0.0.1",
            "webhook_port": str(self.webhook_port),
            "webhook_path": WEBHOOK_PATH,
            "tls_certificate": str(certificate),
            "tls_key": str(key),
        }
        text = TEMPLATE.read_text(encoding="utf-8")
        for name, value in values.items():
            text = text.replace("{{" + name + "}}", value)
        assert "{{" not in text, "a placeholder of deploy/nginx.conf.template was not filled"
        path = run_dir / "nginx.conf"
        path.write_text(text, encoding="utf-8")
        return path

    # -- processes

    def _spawn(
        self, name: str, args: List[str], env: Optional[Dict[str, str]] = None
    ) -> subprocess.Popen:
        with open(self.workdir / f"{name}.log", "ab") as log:
            return subprocess.Popen(
                args,
                cwd=PROJECT_ROOT,
                env=env or self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def start_rasa(self, replica: Replica) -> None:
        endpoints_file = self.workdir / "endpoints.yml"
        replica.process = self._spawn(
            replica.name,
            [
                str(BIN / "rasa"),
                "run",
                "--model",
                str(self.model),
                "--endpoints",
                str(endpoints_file),
                "--credentials",
                str(PROJECT_ROOT / "credentials.yml"),
                "--interface",
                "127.0.0.1",
                "--port",
                str(replica.port),
            ],
        )

    def start(self) -> "ScaleOutStack":
        self.workdir.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [str(BIN / "scrollcheck"), "migrate"],
            cwd=PROJECT_ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            raise RuntimeError(f"scrollcheck migrate failed:\n{result.stdout}\n{result.stderr}")
        write_endpoints(
            self.workdir / "endpoints.yml",
            endpoints(
                f"http://127.0.0.1:{self.actions_port}/webhook",
                self.database_url,
                REDIS_URL,
                self.lock_prefix,
            ),
        )
        for index in range(self.replicas):
            self.actions.append(Replica(f"actions-{index}", free_port()))
            self.rasa.append(Replica(f"rasa-{index}", free_port()))
            self.front_ends.append(Replica(f"front-end-{index}", free_port()))
        self.nginx = self._spawn(
            "nginx", [NGINX, "-c", str(self.nginx_conf()), "-g", "daemon off;"]
        )
        for replica in self.actions:
            replica.process = self._spawn(
                replica.name,
                [
                    str(BIN / "rasa"),
                    "run",
                    "actions",
                    "--actions",
                    "actions",
                    "--port",
                    str(replica.port),
                ],
            )
        for replica in self.rasa:
            self.start_rasa(replica)
        deadline = time.monotonic() + START_TIMEOUT
        for replica, path in [
            *[(r, "/health") for r in self.actions],
            *[(r, "/") for r in self.rasa],
        ]:
            self.wait_healthy(replica, f"http://127.0.0.1:{replica.port}{path}", deadline)
        for replica in self.front_ends:
            # Each front end keeps its own inbox of unanswered updates (bot/telegram/inbox.py).
            env = dict(
                self.env(),
                TELEGRAM_WEBHOOK_PORT=str(replica.port),
                SCROLLCHECK_VAR_DIR=str(self.workdir / replica.name),
            )
            replica.process = self._spawn(
                replica.name,
                [
                    str(BIN / "scrollcheck"),
                    "telegram",
                    "--rasa-url",
                    f"http://127.0.0.1:{self.rasa_port}",
                    "--action-url",
                    f"http://127.0.0.1:{self.actions_port}/webhook",
                ],
                env,
            )
        return self

    def wait_healthy(self, replica: Replica, url: str, deadline: float) -> None:
        assert replica.process is not None
        while http_status(url) != 200:
            if replica.process.poll() is not None or time.monotonic() > deadline:
                log = (self.workdir / f"{replica.name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(
                    f"{replica.name} did not become healthy at {url}; last log lines:\n{log}"
                )
            time.sleep(0.5)

    def kill(self, replica: Replica) -> None:
        """kill -9 the replica's whole process group, as a crash or an OOM kill would."""
        assert replica.process is not None
        os.killpg(replica.process.pid, signal.SIGKILL)
        replica.process.wait(10)

    def stop(self) -> None:
        processes = [
            r.process for r in (*self.front_ends, *self.rasa, *self.actions) if r.process
        ] + ([self.nginx] if self.nginx else [])
        for process in processes:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        self.clear_locks()

    def clear_locks(self) -> None:
        """Remove the test's lock-store keys from the shared Redis."""
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(match=f"{self.lock_prefix}:*"):
            client.delete(key)

    def log_text(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.workdir.glob("*.log")))
