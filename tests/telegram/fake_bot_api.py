"""A stand-in Telegram Bot API server on 127.0.0.1, for running the real PTB Application in tests.

It implements the methods our front end uses, with Telegram's validation where it matters (empty or
over-long text, callback_data over 64 bytes, "message is not modified", unknown chats, answering a
callback query twice), records every call, can fail the next call(s) of a method (429 with
retry_after, 502 as a network-level failure), and lets a test inject updates of every kind. Like
the real API it includes the user's names in the chat objects it returns, so a leak anywhere in the
front end would show up in the tests' scans.

After setWebhook it delivers updates to the webhook as Telegram does: POST with the secret token
header, the updates of one chat one after the other (the next only after the previous got a 2xx;
grammY's deployment guide), different chats concurrently up to `max_connections` (default 40),
a failed delivery retried after a pause; getUpdates then answers 409, as Telegram does.

Runs its own event loop in a thread; every public method is thread-safe and synchronous.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any, Callable, Deque, Dict, List, Optional, Set

from aiohttp import web

BOT_ID = 5550001111
BOT_USERNAME = "scrollcheck_test_bot"
# Deliberately not shaped like a real BotFather token (digits:35 characters), so no secret
# scanner mistakes it for one; PTB only needs it non-empty.
DEFAULT_TOKEN = "0:stand-in-not-a-real-token"
JSON_FIELDS = {
    "reply_markup",
    "commands",
    "allowed_updates",
    "scope",
    "link_preview_options",
    "entities",
}
INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "timeout", "max_connections"}


@dataclass(frozen=True)
class FakeUser:
    """A Telegram user in a private chat (chat id == user id, as on Telegram)."""

    id: int
    first_name: str
    last_name: str
    username: str
    language_code: Optional[str] = "en"

    def as_user(self) -> Dict[str, Any]:
        user = {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "username": self.username,
        }
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def as_private_chat(self) -> Dict[str, Any]:
        return {
            "id": self.id,
            "type": "private",
            "first_name": self.first_name,
            "last_name": self.last_name,
            "username": self.username,
        }


@dataclass
class ApiCall:
    method: str
    params: Dict[str, Any]
    at: float
    status: int = 200


@dataclass
class _Fault:
    status: int
    retry_after: Optional[int]
    description: str


@dataclass
class _State:
    updates: List[Dict[str, Any]] = field(default_factory=list)
    calls: List[ApiCall] = field(default_factory=list)
    chats: Dict[int, Dict[str, Any]] = field(default_factory=dict)
    messages: Dict[int, Dict[int, Dict[str, Any]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    sent: Dict[int, List[int]] = field(default_factory=lambda: defaultdict(list))
    open_queries: Dict[str, int] = field(default_factory=dict)
    answered_queries: Dict[str, Optional[str]] = field(default_factory=dict)
    faults: Dict[str, Deque[_Fault]] = field(default_factory=lambda: defaultdict(deque))
    commands: Optional[List[Dict[str, str]]] = None
    commands_by_language: Dict[str, List[Dict[str, str]]] = field(default_factory=dict)
    webhook: Dict[str, Any] = field(default_factory=dict)
    left_chats: List[int] = field(default_factory=list)


class FakeBotApi:
    def __init__(self, token: str = DEFAULT_TOKEN) -> None:
        self.token = token
        self._state = _State()
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(100)
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._new_update: Optional[asyncio.Event] = None
        self._thread: Optional[threading.Thread] = None
        self._delivery: Optional["asyncio.Task[None]"] = None
        self.webhook_deliveries = 0  # updates delivered to a webhook with a 2xx (for tests)
        self.webhook_retries = 0  # deliveries that failed and were tried again
        self.port = 0

    # -- lifecycle

    @property
    def base_url(self) -> str:
        """PTB's `base_url` (the token is appended to it)."""
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self) -> "FakeBotApi":
        ready = threading.Event()

        def serve() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self._loop = loop
            self._new_update = asyncio.Event()
            app = web.Application()
            app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
            runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ready.set()
            loop.run_forever()
            pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
            for task in pending:  # e.g. a long poll still waiting
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=serve, name="fake-bot-api", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the stand-in Bot API did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    # -- test controls

    def fail_next(
        self, method: str, *, status: int = 429, retry_after: Optional[int] = None, times: int = 1
    ) -> None:
        descriptions = {
            429: f"Too Many Requests: retry after {retry_after}",
            502: "Bad Gateway",
            500: "Internal Server Error",
        }
        with self._lock:
            for _ in range(times):
                self._state.faults[method].append(
                    _Fault(status, retry_after, descriptions.get(status, f"Error {status}"))
                )

    def calls(self, method: Optional[str] = None) -> List[ApiCall]:
        with self._lock:
            return [c for c in self._state.calls if method is None or c.method == method]

    def bot_messages(self, chat_id: int) -> List[Dict[str, Any]]:
        """The bot's messages in a chat, in the order they were sent, as they are now."""
        with self._lock:
            return [dict(self._state.messages[chat_id][mid]) for mid in self._state.sent[chat_id]]

    def message(self, chat_id: int, message_id: int) -> Dict[str, Any]:
        with self._lock:
            return dict(self._state.messages[chat_id][message_id])

    def texts(self, chat_id: int) -> List[str]:
        return [m["text"] for m in self.bot_messages(chat_id)]

    @property
    def commands(self) -> Optional[List[Dict[str, str]]]:
        with self._lock:
            return self._state.commands

    def commands_for(self, language_code: str) -> Optional[List[Dict[str, str]]]:
        with self._lock:
            return self._state.commands_by_language.get(language_code)

    @property
    def webhook(self) -> Dict[str, Any]:
        with self._lock:
            return dict(self._state.webhook)

    @property
    def left_chats(self) -> List[int]:
        with self._lock:
            return list(self._state.left_chats)

    def answered_callback(self, query_id: str) -> Optional[str]:
        """The text shown for an answered callback query ("" for none); KeyError if unanswered."""
        with self._lock:
            return self._state.answered_queries[query_id] or ""

    def wait_for(
        self, predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.02
    ) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for the bot")
            time.sleep(interval)

    def wait_for_messages(
        self, chat_id: int, count: int, timeout: float = 15.0
    ) -> List[Dict[str, Any]]:
        return self.wait_for(
            lambda: len(self.bot_messages(chat_id)) >= count and self.bot_messages(chat_id), timeout
        )

    def wait_for_turn(
        self, chat_id: int, already: int, *, timeout: float = 20.0, quiet: float = 0.4
    ) -> List[Dict[str, Any]]:
        """The bot's new messages after `already`: waits for the first, then for `quiet` seconds of silence."""
        self.wait_for(lambda: len(self.bot_messages(chat_id)) > already, timeout)
        count, since = len(self.bot_messages(chat_id)), time.monotonic()
        while time.monotonic() - since < quiet:
            time.sleep(0.05)
            now = len(self.bot_messages(chat_id))
            if now != count:
                count, since = now, time.monotonic()
        return self.bot_messages(chat_id)[already:]

    # -- injecting updates

    def register_chat(self, user: FakeUser) -> None:
        """Make a chat known without an update (as if it had written before, e.g. via a webhook)."""
        with self._lock:
            self._state.chats[user.id] = user.as_private_chat()

    def _push(self, update: Dict[str, Any]) -> Dict[str, Any]:
        with self._lock:
            update = {"update_id": next(self._update_ids), **update}
            self._state.updates.append(update)
        assert self._loop is not None and self._new_update is not None
        self._loop.call_soon_threadsafe(self._new_update.set)
        return update

    def _user_message(
        self, user: FakeUser, chat: Optional[Dict[str, Any]] = None, **content: Any
    ) -> Dict[str, Any]:
        chat = chat or user.as_private_chat()
        with self._lock:
            self._state.chats[chat["id"]] = chat
        return {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": chat,
            "from": user.as_user(),
            **content,
        }

    def send_text(self, user: FakeUser, text: str) -> Dict[str, Any]:
        content: Dict[str, Any] = {"text": text}
        command_match = re.match(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?", text)
        if command_match:  # Telegram marks a leading /command as a bot_command entity
            command = command_match.group(0)
            content["entities"] = [
                {
                    "type": "bot_command",
                    "offset": 0,
                    "length": len(command.encode("utf-16-le")) // 2,
                }
            ]
        return self._push({"message": self._user_message(user, **content)})

    def send_command(self, user: FakeUser, command: str) -> Dict[str, Any]:
        assert command.startswith("/")
        return self.send_text(user, command)

    def send_group_text(self, user: FakeUser, group_id: int, text: str) -> Dict[str, Any]:
        chat = {"id": group_id, "type": "group", "title": "Test group"}
        return self._push({"message": self._user_message(user, chat=chat, text=text)})

    def edit_text(self, user: FakeUser, original: Dict[str, Any], new_text: str) -> Dict[str, Any]:
        message = dict(original["message"])
        message.update(text=new_text, edit_date=int(time.time()))
        return self._push({"edited_message": message})

    def send_non_text(
        self, user: FakeUser, kind: str, caption: Optional[str] = None
    ) -> Dict[str, Any]:
        file_id = {"file_id": f"file-{next(self._ids)}", "file_unique_id": f"u{next(self._ids)}"}
        contents: Dict[str, Dict[str, Any]] = {
            "sticker": {
                "sticker": {
                    **file_id,
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                    "type": "regular",
                    "emoji": "😀",
                }
            },
            "photo": {"photo": [{**file_id, "width": 90, "height": 90}]},
            "voice": {"voice": {**file_id, "duration": 3}},
            "video": {"video": {**file_id, "width": 640, "height": 360, "duration": 4}},
            "document": {"document": {**file_id, "file_name": "notes.pdf"}},
            "location": {"location": {"latitude": 52.37, "longitude": 4.89}},
            "contact": {
                "contact": {
                    "phone_number": "+31612345678",
                    "first_name": "Contactina",
                    "last_name": "Friendly",
                    "user_id": 4242424242,
                }
            },
        }
        content = dict(contents[kind])
        if caption is not None:
            content["caption"] = caption
        return self._push({"message": self._user_message(user, **content)})

    def press(self, user: FakeUser, message: Dict[str, Any], title: str) -> str:
        """Press the button titled `title` on one of the bot's messages; returns the query id."""
        current = self.message(message["chat"]["id"], message["message_id"])
        buttons = [
            b for row in (current.get("reply_markup") or {}).get("inline_keyboard", []) for b in row
        ]
        if not buttons:  # the keyboard was removed: Telegram would not let the user press it
            buttons = [
                b
                for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
                for b in row
            ]
        matches = [b for b in buttons if b["text"] == title]
        if not matches:
            raise AssertionError(f"no button {title!r} in {[b['text'] for b in buttons]}")
        return self.press_data(user, current, matches[0]["callback_data"])

    def press_data(self, user: FakeUser, message: Dict[str, Any], data: str) -> str:
        query_id = str(next(self._ids) * 7919)
        with self._lock:
            self._state.open_queries[query_id] = message["chat"]["id"]
        self._push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user.as_user(),
                    "message": message,
                    "chat_instance": "ci-1",
                    "data": data,
                }
            }
        )
        return query_id

    # -- the HTTP side

    async def _dispatch(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await _params(request)
        call = ApiCall(method, params, time.monotonic())
        with self._lock:
            self._state.calls.append(call)
            fault = self._state.faults[method].popleft() if self._state.faults[method] else None
        if fault is not None:
            call.status = fault.status
            extra = {"retry_after": fault.retry_after} if fault.retry_after is not None else None
            return _error(fault.status, fault.description, extra)
        handler = getattr(self, "_api_" + method, None)
        if handler is None:
            call.status = 404
            return _error(404, "Not Found: method not found")
        try:
            result = await handler(params)
        except _ApiError as exc:
            call.status = exc.status
            return _error(exc.status, exc.description)
        return web.json_response({"ok": True, "result": result})

    async def _api_getMe(self, params: Dict[str, Any]) -> Dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "scrollcheck",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def _api_getUpdates(self, params: Dict[str, Any]) -> List[Dict[str, Any]]:
        with self._lock:
            if self._state.webhook.get("url"):
                raise _ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
                )
        offset, limit = params.get("offset") or 0, params.get("limit") or 100
        timeout = min(float(params.get("timeout") or 0), 10.0)
        allowed = params.get("allowed_updates") or None
        deadline = time.monotonic() + timeout
        assert self._new_update is not None
        while True:
            with self._lock:
                self._state.updates = [u for u in self._state.updates if u["update_id"] >= offset]
                ready = [
                    u
                    for u in self._state.updates
                    if allowed is None or (set(u) - {"update_id"}) & set(allowed)
                ]
                ready = ready[:limit]
            remaining = deadline - time.monotonic()
            if ready or remaining <= 0:
                return ready
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def _api_sendMessage(self, params: Dict[str, Any]) -> Dict[str, Any]:
        chat_id, text = params.get("chat_id"), params.get("text") or ""
        with self._lock:
            chat = self._state.chats.get(chat_id)
        if chat is None:
            raise _ApiError(400, "Bad Request: chat not found")
        if not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        _check_markup(markup)
        message = {
            "message_id": next(self._ids),
            "date": int(time.time()),
            "chat": chat,
            "from": await self._api_getMe({}),
            "text": text,
        }
        if markup:
            message["reply_markup"] = markup
        with self._lock:
            self._state.messages[chat_id][message["message_id"]] = message
            self._state.sent[chat_id].append(message["message_id"])
        return message

    async def _api_editMessageReplyMarkup(self, params: Dict[str, Any]) -> Dict[str, Any]:
        chat_id, message_id = params.get("chat_id"), params.get("message_id")
        markup = params.get("reply_markup") or None
        _check_markup(markup)
        with self._lock:
            message = self._state.messages.get(chat_id, {}).get(message_id)
            if message is None:
                raise _ApiError(400, "Bad Request: message to edit not found")
            if (message.get("reply_markup") or None) == markup:
                raise _ApiError(
                    400,
                    "Bad Request: message is not modified: specified new message content "
                    "and reply markup are exactly the same as a current content and reply "
                    "markup of the message",
                )
            if markup:
                message["reply_markup"] = markup
            else:
                message.pop("reply_markup", None)
            return dict(message)

    async def _api_answerCallbackQuery(self, params: Dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id"))
        with self._lock:
            if query_id not in self._state.open_queries:
                raise _ApiError(
                    400,
                    "Bad Request: query is too old and response timeout expired or query ID is invalid",
                )
            del self._state.open_queries[query_id]
            self._state.answered_queries[query_id] = params.get("text")
        return True

    async def _api_sendChatAction(self, params: Dict[str, Any]) -> bool:
        if params.get("action") not in {"typing", "upload_photo", "record_voice"}:
            raise _ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    async def _api_setMyCommands(self, params: Dict[str, Any]) -> bool:
        # As Telegram: one menu per language_code, and the default one without it.
        with self._lock:
            if params.get("language_code"):
                self._state.commands_by_language[params["language_code"]] = params.get("commands")
            else:
                self._state.commands = params.get("commands")
        return True

    async def _api_getMyCommands(self, params: Dict[str, Any]) -> List[Dict[str, str]]:
        with self._lock:
            if params.get("language_code") in self._state.commands_by_language:
                return list(self._state.commands_by_language[params["language_code"]])
            return list(self._state.commands or [])

    async def _api_deleteWebhook(self, params: Dict[str, Any]) -> bool:
        with self._lock:
            self._state.webhook = {}
        if self._delivery is not None:
            self._delivery.cancel()
            self._delivery = None
        return True

    async def _api_setWebhook(self, params: Dict[str, Any]) -> bool:
        with self._lock:
            self._state.webhook = dict(params)
        if params.get("url") and (self._delivery is None or self._delivery.done()):
            self._delivery = asyncio.ensure_future(self._deliver_forever())
        return True

    # -- webhook delivery

    async def _deliver_forever(self) -> None:
        """Hand each pending update to its chat's queue; one sender per chat with updates."""
        import aiohttp

        assert self._new_update is not None
        queues: Dict[Any, Deque[Dict[str, Any]]] = {}
        senders: Set["asyncio.Future[None]"] = set()
        with self._lock:
            limit = int(self._state.webhook.get("max_connections") or 40)
        slots = asyncio.Semaphore(limit)
        # The test's proxy has a self-signed certificate.
        connector = aiohttp.TCPConnector(ssl=False, limit=limit)
        async with aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=60)
        ) as session:
            while True:
                self._new_update.clear()
                with self._lock:
                    pending, self._state.updates = self._state.updates, []
                for update in pending:
                    key = _chat_key(update)
                    if key in queues:
                        queues[key].append(update)
                    else:
                        queues[key] = deque([update])
                        # Kept until done: the loop holds tasks only weakly.
                        sender = asyncio.ensure_future(self._send_chat(session, slots, queues, key))
                        senders.add(sender)
                        sender.add_done_callback(senders.discard)
                await self._new_update.wait()

    async def _send_chat(
        self,
        session: Any,
        slots: asyncio.Semaphore,
        queues: Dict[Any, Deque[Dict[str, Any]]],
        key: Any,
    ) -> None:
        queue = queues[key]
        try:
            while queue:
                pause = 0.2
                while not await self._post_update(session, slots, queue[0]):
                    self.webhook_retries += 1
                    await asyncio.sleep(pause)
                    pause = min(pause * 2, 5.0)
                queue.popleft()
        finally:
            del queues[key]

    async def _post_update(
        self, session: Any, slots: asyncio.Semaphore, update: Dict[str, Any]
    ) -> bool:
        with self._lock:
            url = self._state.webhook.get("url")
            secret = self._state.webhook.get("secret_token")
        if not url:
            return False
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        async with slots:
            try:
                async with session.post(url, json=update, headers=headers) as response:
                    await response.read()
                    ok = 200 <= response.status < 300
            except Exception:  # noqa: BLE001 — unreachable, reset, timed out: Telegram tries again
                ok = False
        if ok:
            self.webhook_deliveries += 1
        return ok

    async def _api_getWebhookInfo(self, params: Dict[str, Any]) -> Dict[str, Any]:
        with self._lock:
            url = self._state.webhook.get("url", "")
        return {"url": url, "has_custom_certificate": False, "pending_update_count": 0}

    async def _api_leaveChat(self, params: Dict[str, Any]) -> bool:
        with self._lock:
            self._state.left_chats.append(params.get("chat_id"))
        return True

    async def _api_close(self, params: Dict[str, Any]) -> bool:
        return True

    async def _api_logOut(self, params: Dict[str, Any]) -> bool:
        return True


class _ApiError(Exception):
    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def _error(
    status: int, description: str, parameters: Optional[Dict[str, Any]] = None
) -> web.Response:
    body: Dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


def _chat_key(update: Dict[str, Any]) -> Any:
    """The chat an update belongs to (its sender for one without a chat)."""
    for body in update.values():
        if isinstance(body, dict):
            chat = body.get("chat") or (body.get("message") or {}).get("chat")
            if isinstance(chat, dict) and "id" in chat:
                return chat["id"]
            if isinstance(body.get("from"), dict):
                return body["from"].get("id")
    return update.get("update_id")


def _check_markup(markup: Optional[Dict[str, Any]]) -> None:
    for row in (markup or {}).get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode("utf-8")) <= 64:
                raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            if not button.get("text"):
                raise _ApiError(
                    400, "Bad Request: text buttons are unallowed in the inline keyboard"
                )


async def _params(request: web.Request) -> Dict[str, Any]:
    """PTB posts form fields whose non-string values are JSON; JSON bodies are accepted too."""
    if request.content_type == "application/json":
        raw = await request.json()
    elif request.method == "POST":
        raw = dict(await request.post())
    else:
        raw = dict(request.query)
    params: Dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, str) and key in JSON_FIELDS:
            value = json.loads(value)
        elif isinstance(value, str) and key in INT_FIELDS:
            value = float(value) if "." in value else int(value)
        params[key] = value
    return params
