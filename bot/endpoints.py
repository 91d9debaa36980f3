"""Rasa's endpoints.yml, written for one process or for several replicas (docs/deploy.md).

* `action_endpoint`: the action server's /webhook (one server, or nginx in front of several);
* `tracker_store`: Rasa's SQLTrackerStore on our own database (bot.storage.db), so every replica
  reads and writes the same conversations;
* `lock_store`: with a Redis URL, Rasa's RedisLockStore, which serialises each conversation's
  turns across replicas (without it each replica only locks within itself).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Optional
from urllib.parse import urlparse

import yaml


def lock_store_endpoint(redis_url: str, key_prefix: Optional[str] = None) -> Dict[str, Any]:
    """`lock_store:` for Rasa's RedisLockStore from redis://host:port/db (password in the URL)."""
    url = urlparse(redis_url)
    if url.scheme not in {"redis", "rediss"} or not url.hostname:
        raise ValueError("the lock store URL must look like redis://host:6379/0")
    endpoint: Dict[str, Any] = {
        "type": "redis",
        "url": url.hostname,
        "port": url.port or 6379,
        "db": int((url.path or "/0").strip("/") or 0),
    }
    if url.password:
        endpoint["password"] = url.password
    if url.scheme == "rediss":
        endpoint["use_ssl"] = True
    if key_prefix:
        if not key_prefix.isalnum():  # Rasa silently ignores any other prefix
            raise ValueError("a lock store key prefix must be letters and digits only")
        endpoint["key_prefix"] = key_prefix
    return endpoint


def endpoints(
    action_url: str,
    database_url: Optional[str] = None,
    redis_url: Optional[str] = None,
    lock_prefix: Optional[str] = None,
) -> Dict[str, Any]:
    from bot.storage.db import tracker_store_endpoint

    config: Dict[str, Any] = {
        "action_endpoint": {"url": action_url},
        "tracker_store": tracker_store_endpoint(database_url),
    }
    if redis_url:
        config["lock_store"] = lock_store_endpoint(redis_url, lock_prefix)
    return config


def write_endpoints(path: Path, config: Dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    path.chmod(0o600)  # may hold a database or Redis password
    return path
