"""endpoints.yml for one process or several replicas (bot/endpoints.py), as Rasa reads it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rasa.core.lock_store import LockStore, RedisLockStore
from rasa.utils.endpoints import read_endpoint_config

from bot.endpoints import endpoints, lock_store_endpoint, write_endpoints


def test_a_redis_url_becomes_rasas_redis_lock_store_with_our_prefix(tmp_path: Path) -> None:
    path = write_endpoints(
        tmp_path / "endpoints.yml",
        endpoints(
            "http://lb:5056/webhook",
            f"sqlite:///{tmp_path / 'db.sqlite'}",
            "redis://127.0.0.1:6379/0",
            "scaletest1",
        ),
    )
    assert path.stat().st_mode & 0o777 == 0o600, "the file may hold passwords"
    config = yaml.safe_load(path.read_text())
    assert config["action_endpoint"] == {"url": "http://lb:5056/webhook"}
    # Rasa itself builds the lock store from the file: the machine's Redis, our key prefix.
    store = LockStore.create(read_endpoint_config(str(path), "lock_store"))
    assert isinstance(store, RedisLockStore) and store.key_prefix.startswith("scaletest1:")
    ticket = store.issue_ticket("conversation-a", 5)
    assert store.get_lock("conversation-a").is_locked(ticket + 1)
    store.delete_lock("conversation-a")


def test_without_redis_there_is_no_lock_store_section(tmp_path: Path) -> None:
    config = endpoints("http://127.0.0.1:5055/webhook", f"sqlite:///{tmp_path / 'db.sqlite'}")
    assert "lock_store" not in config and config["tracker_store"]["dialect"] == "sqlite"


@pytest.mark.parametrize(
    "url, prefix",
    [("http://127.0.0.1:6379", None), ("redis://", None), ("redis://h:1/0", "bad-prefix")],
)
def test_a_bad_lock_store_setting_is_refused_clearly(url: str, prefix: str) -> None:
    with pytest.raises(ValueError):
        lock_store_endpoint(url, prefix)


def test_a_password_and_tls_reach_rasa() -> None:
    assert lock_store_endpoint("rediss://:s3cret@cache.example:6380/2") == {
        "type": "redis",
        "url": "cache.example",
        "port": 6380,
        "db": 2,
        "password": "s3cret",
        "use_ssl": True,
    }
