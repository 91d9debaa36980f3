"""Garbage collection in the long-running processes, which hold large models from their start.

Why: py-spy with native frames under benchmarks/full_path.py (100 chats) found 95 % of the
Telegram front end's CPU in CPython's cyclic garbage collector (`gc_collect_main`). The process
holds millions of objects that live as long as it does (the risk model, the language models, the
safety texts, python-telegram-bot), and every full collection walks all of them again, while each
message allocates enough to trigger collections. `gc.freeze()` after start-up moves everything
alive then into a permanent generation the collector no longer walks (CPython's documented use:
after loading, before serving); what messages allocate later is collected as before.
"""

from __future__ import annotations

import asyncio
import gc
import logging

logger = logging.getLogger(__name__)


def freeze() -> int:
    """Collect once, then exempt every object alive now from later collections; returns how many."""
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    logger.info("%d long-lived objects exempted from garbage collection", frozen)
    return frozen


def freeze_when_started(delay: float = 5.0) -> None:
    """`freeze()` once the running event loop has finished starting up (now if there is none)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        freeze()
        return
    loop.call_later(delay, freeze)
