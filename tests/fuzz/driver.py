"""Turns generated events into Telegram updates on the stand-in Bot API, and records what each
chat must get back (oracle.ChatLedger).

FuzzBotApi is the stand-in Bot API with one difference: getUpdates hands out every update,
whatever `allowed_updates` says. Telegram keeps the last allowed_updates a bot set, so a bot
started next to another deployment (or after a Telegram change) can receive kinds it never asked
for; this is how unknown update kinds reach the front end here.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import time
from collections import Counter
from typing import Any, Dict, List, Optional, Tuple

from tests.fuzz import oracle
from tests.fuzz.strategies import kind_of
from tests.telegram.fake_bot_api import BOT_ID, BOT_USERNAME, FakeBotApi, FakeUser


class FuzzBotApi(FakeBotApi):
    def push_raw(self, update: Dict[str, Any]) -> Dict[str, Any]:
        """Queue an update exactly as given (a fresh update_id unless it brings its own)."""
        return self._push(update)

    async def _api_getUpdates(self, params: Dict[str, Any]) -> List[Dict[str, Any]]:
        offset, limit = params.get("offset") or 0, params.get("limit") or 100
        timeout = min(float(params.get("timeout") or 0), 10.0)
        deadline = time.monotonic() + timeout
        assert self._new_update is not None
        while True:
            with self._lock:
                self._state.updates = [
                    u
                    for u in self._state.updates
                    if not isinstance(u["update_id"], int) or u["update_id"] >= offset
                ]
                ready = self._state.updates[:limit]
            remaining = deadline - time.monotonic()
            if ready or remaining <= 0:
                return ready
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    def pending_updates(self) -> int:
        with self._lock:
            return len(self._state.updates)

    def answered_queries(self) -> Dict[str, Optional[str]]:
        with self._lock:
            return dict(self._state.answered_queries)

    def message_count(self) -> int:
        with self._lock:
            return sum(len(ids) for ids in self._state.sent.values())


def _bot_message(chat: Dict[str, Any], message_id: int, buttons: List[str]) -> Dict[str, Any]:
    """A question of ours as Telegram shows it in a callback query (its keyboard included)."""
    message: Dict[str, Any] = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": chat,
        "from": {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "scrollcheck",
            "username": BOT_USERNAME,
        },
        "text": "Question 1 of 5?",
    }
    if buttons:
        message["reply_markup"] = {
            "inline_keyboard": [
                [{"text": f"b{i}", "callback_data": data}] for i, data in enumerate(buttons)
            ]
        }
    return message


def _malformed(variant: str, update: Dict[str, Any]) -> Dict[str, Any]:
    """A valid message update, broken the way `variant` says."""
    update = copy.deepcopy(update)
    message = update["message"]
    if variant == "text_int":
        message["text"] = 5
    elif variant == "text_list":
        message["text"] = ["a", 1]
    elif variant == "text_dict":
        message["text"] = {"text": message.get("text")}
    elif variant == "text_null":
        message["text"] = None
    elif variant == "text_empty":
        message["text"] = ""
    elif variant == "chat_id_str":
        message["chat"]["id"] = str(message["chat"]["id"])
    elif variant == "chat_id_float":
        message["chat"]["id"] = message["chat"]["id"] + 0.5
    elif variant == "chat_missing":
        del message["chat"]
    elif variant == "date_missing":
        del message["date"]
    elif variant == "date_str":
        message["date"] = "yesterday"
    elif variant == "date_huge":
        message["date"] = 10**15
    elif variant == "from_missing":
        del message["from"]
    elif variant == "from_id_str":
        message["from"]["id"] = "user-" + str(message["from"]["id"])
    elif variant == "message_id_str":
        message["message_id"] = "m" + str(message["message_id"])
    elif variant == "entity_beyond_text":
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": 10_000}]
    elif variant == "entity_zero_length":
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": 0}]
    elif variant == "entity_unknown_type":
        message["entities"] = [{"type": "future_entity", "offset": 0, "length": 1}]
    elif variant == "entities_not_list":
        message["entities"] = {"type": "bot_command"}
    elif variant == "language_code_int":
        message["from"]["language_code"] = 31
    elif variant == "chat_type_unknown":
        message["chat"]["type"] = "future_chat_type"
    elif variant == "message_is_str":
        update["message"] = message.get("text") or "x"
    elif variant == "message_is_list":
        update["message"] = [message]
    elif variant == "callback_no_id":
        update = {
            "update_id": update["update_id"],
            "callback_query": {
                "from": message["from"],
                "chat_instance": "ci",
                "data": "/affirm",
                "message": message,
            },
        }
    elif variant == "callback_from_missing":
        update = {
            "update_id": update["update_id"],
            "callback_query": {
                "id": "cq" + str(update["update_id"]),
                "chat_instance": "ci",
                "data": "/affirm",
                "message": message,
            },
        }
    elif variant == "extra_fields":
        message["future_field"] = {"nested": [1, 2, {"x": message.get("text")}]}
        update["future_top_level"] = True
    else:
        raise ValueError(variant)
    return update


class FuzzDriver:
    """Sends generated chat scripts through the stand-in Bot API; keeps the ledgers and counts."""

    def __init__(self, api: FuzzBotApi, *, first_id: int = 7_100_000_000) -> None:
        self.api = api
        self.ledgers: Dict[int, oracle.ChatLedger] = {}
        self.counts: Counter = Counter()
        self.users: List[FakeUser] = []
        self.generated: List[str] = []  # every generated text and name, for the log scan
        self.rasa_count = 0  # messages sent so far that must reach Rasa
        self._ids = itertools.count(first_id, 7919)
        self._message_ids = itertools.count(9_000_000)
        self._query_ids = itertools.count(1)
        self._group_ids = itertools.count(-1_009_000_000_000, -7)

    @property
    def sent(self) -> int:
        return sum(self.counts.values())

    def new_user(self, profile: Dict[str, Any]) -> FakeUser:
        language_code = profile["language_code"]
        user = FakeUser(
            id=next(self._ids),
            first_name=profile["first_name"],
            last_name=profile["last_name"],
            username=profile["username"],
            language_code=language_code if language_code else None,
        )
        self.users.append(user)
        self.generated += [user.first_name, user.last_name, user.username, str(user.id)]
        if language_code:
            self.generated.append(language_code)
        self.ledgers[user.id] = oracle.ChatLedger(user.id)
        return user

    def send_script(
        self, profile: Dict[str, Any], events: List[Tuple[str, ...]], *, flood: bool = False
    ) -> oracle.ChatLedger:
        """Send one chat's events at once; `flood`: more than flood control lets through."""
        user = self.new_user(profile)
        ledger = self.ledgers[user.id]
        last_message: Optional[Dict[str, Any]] = None
        for event in events:
            last_message = self.send(user, ledger, event, last_message)
        if not flood:
            self.rasa_count += sum(
                1
                for e in ledger.expects
                if e.required and all(m.startswith("ack:") for m in e.markers)
            )
        return ledger

    def send(
        self,
        user: FakeUser,
        ledger: oracle.ChatLedger,
        event: Tuple[str, ...],
        last_message: Optional[Dict[str, Any]],
    ) -> Optional[Dict[str, Any]]:
        api, kind = self.api, event[0]
        self.counts[kind_of(event)] += 1
        if kind in ("text", "command"):
            text = event[2]
            self.generated.append(text)
            update = api.send_text(user, text)
            ledger.add(event, oracle.for_text(text))
            return update
        if kind == "edit":
            text = event[2]
            self.generated.append(text)
            original = last_message or {
                "message": api._user_message(user, text="an earlier message")
            }
            api.edit_text(user, original, text)
            ledger.add(event, oracle.for_edit(text))
            return last_message
        if kind == "non_text":
            caption = event[2]
            if caption:
                self.generated.append(caption)
            api.send_non_text(user, event[1], caption)
            ledger.add(event, oracle.for_non_text(caption))
            return last_message
        if kind == "callback":
            self._press(user, ledger, event)
            return last_message
        if kind == "malformed":
            self.generated.append(event[2])
            valid = {"update_id": 0, "message": api._user_message(user, text=event[2] or "x")}
            update = _malformed(event[1], valid)
            update.pop("update_id")
            api.push_raw(update)
            # If the front end reads it at all, it reads it as the text it carries, or (a broken
            # command entity) as an unknown command, or as something without text.
            ledger.add(
                event,
                oracle.optional(
                    oracle.either(
                        oracle.for_text(event[2] or "x"),
                        oracle.Expect(
                            frozenset({"fixed:non_text", "fixed:unknown_command"}), False
                        ),
                    )
                ),
            )
            return last_message
        if kind == "unknown_kind":
            self.generated.append(event[2])
            api.push_raw({event[1]: api._user_message(user, text=event[2] or "x")})
            ledger.add(event, oracle.NOTHING)
            return last_message
        if kind == "group":
            self.generated.append(event[2])
            if ledger.group_id is None:
                ledger.group_id = next(self._group_ids)
            api.send_group_text(user, ledger.group_id, event[2])
            return last_message
        raise ValueError(kind)

    def _press(self, user: FakeUser, ledger: oracle.ChatLedger, event: Tuple[str, ...]) -> None:
        _, variant, data, on_keyboard = event
        query_id = f"fz{next(self._query_ids)}"
        query: Dict[str, Any] = {"id": query_id, "from": user.as_user(), "chat_instance": "ci-fuzz"}
        if data or variant != "no_data":
            query["data"] = data
        chat = user.as_private_chat()
        if variant == "inline":
            query["inline_message_id"] = f"inline-{query_id}"
        else:
            with self.api._lock:
                self.api._state.chats[chat["id"]] = chat
            buttons = [data] if on_keyboard and data else ["/answer_often", "#" + "f" * 24]
            query["message"] = _bot_message(chat, next(self._message_ids), buttons)
        with self.api._lock:
            self.api._state.open_queries[query_id] = chat["id"]
        self.api.push_raw({"callback_query": query})
        ledger.callback_ids.append(query_id)
        authentic = on_keyboard and data and variant == "forged"  # on the keyboard Telegram shows
        if authentic:  # a button of ours: its data goes to Rasa as it is (normalised)
            ledger.add(event, oracle.optional(oracle.for_button(data)))
        else:
            if data:
                ledger.forged.append(data)
            ledger.add(event, oracle.NOTHING)
