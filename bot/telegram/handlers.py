"""The Telegram handlers: every update becomes a job in its chat's lane, then goes through the gateway.

What a handler reads from an update: the chat id (only to compute the pseudonym and to reply), the
message text or button data, and the user's language code (passed to Rasa as metadata). It never
reads, logs or stores the user's first name, last name or username, although Telegram sends them
with every update.

Decisions worth knowing:
* The safety fast path: a message that signals risk gets its safety reply the moment the gateway
  has read it, through the `send` callback of Gateway.handle, inside the chat's lane (so the chat's
  order holds) and before Rasa has answered; Rasa's part of the turn follows.
* Edited messages are politely ignored ("send it again"), except when the edited text carries a risk
  signal: then it is answered like a new message, because crisis resources must not be missed.
* Non-text messages (stickers, photos, voice, video, documents, locations, contacts, ...) get
  "I can only read text"; a caption with a risk signal is answered like a text message.
* Group chats get a polite refusal and the bot leaves; nothing from a group reaches Rasa.
* Free text that starts with "/" but is not a command (e.g. "/ hi") loses its slashes, so a user can
  never inject a Rasa intent payload; known commands map to fixed payloads (texts.COMMAND_PAYLOADS).
"""

from __future__ import annotations

import functools
import logging
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Coroutine, List, Optional, Set, Tuple

from telegram import BotCommand, Update
from telegram.constants import ChatType
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import gc_tuning
from bot.gateway import Button, Gateway, Reply
from bot.gateway.text import normalise_whitespace, user_language
from bot.languages import languages
from bot.privacy.pseudonym import Pseudonymiser
from bot.telegram import texts
from bot.telegram.callback_data import CallbackDataMap
from bot.telegram.delivery import (
    KeyboardTracker,
    ReplySender,
    buttons_from_keyboard,
    give_buttons_back,
    with_network_retries,
)
from bot.telegram.inbox import Inbox, JournalingQueue
from bot.telegram.lanes import ChatLanes

logger = logging.getLogger(__name__)

PRIVATE_MESSAGE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
# Service messages (pins, joins, ...) are not the user talking to us.
USER_CONTENT = ~filters.StatusUpdate.ALL


def well_formed(update: Update) -> bool:
    """PTB does not check the types of what it parses: a text that is a number or a chat id that
    is a string would reach the handlers and fail there (tests/fuzz). The fields we read must
    have Telegram's types."""
    chat, user, message, query = (
        update.effective_chat,
        update.effective_user,
        update.effective_message,
        update.callback_query,
    )
    return (
        (chat is None or type(chat.id) is int)
        and (
            user is None
            or (type(user.id) is int and isinstance(user.language_code, (str, type(None))))
        )
        and (
            message is None
            or (
                message.chat is not None
                and type(message.message_id) is int
                and all(
                    isinstance(part, (str, type(None))) for part in (message.text, message.caption)
                )
            )
        )
        and (
            query is None
            or (isinstance(query.id, str) and isinstance(query.data, (str, type(None))))
        )
    )


class TelegramFrontEnd:
    """Wires the handlers of one Application to a Gateway and a Pseudonymiser."""

    def __init__(
        self,
        gateway: Gateway,
        pseudonymiser: Pseudonymiser,
        *,
        lanes: Optional[ChatLanes] = None,
        inbox: Optional[Inbox] = None,
    ) -> None:
        self.gateway = gateway
        self.pseudonymiser = pseudonymiser
        # Fetched, unanswered updates on disk (bot.telegram.inbox); the ones a lane job answers.
        self.inbox = inbox
        self._claimed: Set[int] = set()
        self.callback_data = CallbackDataMap()
        self.keyboards = KeyboardTracker()
        self._lanes = lanes
        self._refused_groups: "OrderedDict[str, None]" = OrderedDict()
        self.application: Optional[Application] = None
        self.sender: Optional[ReplySender] = None

    # -- wiring

    def install(self, application: Application) -> None:
        self.application = application
        self.sender = ReplySender(application.bot, self.callback_data, self.keyboards)
        if self._lanes is None:
            self._lanes = ChatLanes(
                spawn=lambda coro: application.create_task(coro, name="scrollcheck:lane")
            )
        for command in texts.COMMAND_PAYLOADS:
            application.add_handler(
                CommandHandler(command, self.on_command, filters=PRIVATE_MESSAGE)
            )
        application.add_handler(CommandHandler("help", self.on_help, filters=PRIVATE_MESSAGE))
        application.add_handler(
            MessageHandler(PRIVATE_MESSAGE & filters.COMMAND, self.on_unknown_command)
        )
        application.add_handler(MessageHandler(PRIVATE_MESSAGE & filters.TEXT, self.on_text))
        application.add_handler(
            MessageHandler(
                filters.ChatType.PRIVATE & filters.UpdateType.EDITED_MESSAGE, self.on_edited
            )
        )
        application.add_handler(MessageHandler(PRIVATE_MESSAGE & USER_CONTENT, self.on_non_text))
        application.add_handler(
            MessageHandler(filters.ChatType.GROUPS & filters.UpdateType.MESSAGE, self.on_group)
        )
        application.add_handler(CallbackQueryHandler(self.on_button))
        application.add_handler(
            TypeHandler(Update, self.drop_malformed), group=-1
        )  # before all others
        if self.inbox is not None:
            application.add_handler(
                TypeHandler(Update, self.settle_unclaimed), group=1
            )  # after all others
        application.add_error_handler(self.on_error)

    @property
    def lanes(self) -> ChatLanes:
        assert self._lanes is not None, "install() first"
        return self._lanes

    async def post_init(self, application: Application) -> None:
        """Register the command menu and load the safety detector before the first message."""
        # The default menu, then one per language for users whose Telegram is set to it.
        for lang in (None, *languages().codes):
            commands = [
                BotCommand(command, description) for command, description in texts.commands(lang)
            ]
            try:
                await with_network_retries(
                    functools.partial(application.bot.set_my_commands, commands, language_code=lang)
                )
            except Exception as exc:  # the menu is a convenience; the bot works without it
                logger.error("setMyCommands failed: %s", type(exc).__name__, exc_info=True)
        Gateway.warm_up_safety()
        gc_tuning.freeze()  # what is loaded now lives as long as the process (bot/gc_tuning.py)
        if isinstance(application.update_queue, JournalingQueue):
            replayed = await application.update_queue.replay(application.bot)
            if replayed:
                logger.warning(
                    "answering %d updates a previous run had fetched but not answered", replayed
                )

    async def post_shutdown(self, application: Application) -> None:
        await self.gateway.aclose()

    # -- identity (the only place a chat id is turned into something that leaves this process)

    def _pseudonym(self, update: Update) -> str:
        assert update.effective_chat is not None
        return self.pseudonymiser.pseudonym(update.effective_chat.id)

    @staticmethod
    def _language_code(update: Update) -> Optional[str]:
        user = update.effective_user
        return user.language_code if user is not None else None

    def _lang(self, update: Update) -> str:
        """The chat's language for the front end's own texts (the gateway keeps it)."""
        return self.gateway.language_for(self._pseudonym(update), self._language_code(update))

    def _is_risk(self, update: Update, text: str) -> bool:
        """Only to decide whether an edit, a caption or a message in a flood is passed on at all;
        the turn itself detects once more, in order, with the chat's context."""
        return self.gateway.is_risk(
            text, pseudonym=self._pseudonym(update), language_code=self._language_code(update)
        )

    # -- handlers (each only enqueues; the work runs in the chat's lane)

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.text is not None
        words = message.text.split()
        # The command as Telegram marked it (and CommandHandler matched it): "/stop!" is /stop.
        command = message.text[1 : message.entities[0].length].split("@")[0].lower()
        if command == "language" and len(words) == 1:
            self._offer_languages_later(
                update
            )  # a question of the front end's own: Rasa's form keeps waiting
            return
        payload = (
            texts.language_payload(words[1:])
            if command == "language"
            else texts.COMMAND_PAYLOADS[command]
        )
        # /resources is the way to ask for help numbers: never dropped by flood control.
        self._converse_later(update, payload, always=command == "resources")

    async def on_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        self._reply_later(update, texts.text("help", self._lang(update)))

    async def on_unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        self._reply_later(update, texts.text("unknown_command", self._lang(update)))

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.text is not None
        text = message.text.strip()
        if text.startswith("/"):
            text = text.lstrip("/ ")  # never let free text become a Rasa intent payload
            if not text:  # "/" alone: never leave a message unanswered
                self._reply_later(update, texts.text("unknown_command", self._lang(update)))
                return
        if not normalise_whitespace(text):  # only control characters: nothing Rasa could read
            self._reply_later(update, texts.text("non_text", self._lang(update)))
            return
        self._converse_later(update, text)

    async def on_edited(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.edited_message
        assert message is not None
        text = (message.text or message.caption or "").strip()
        if text and self._is_risk(update, text):
            self._converse_later(update, text.lstrip("/ "), always=True)
        else:
            self._reply_later(update, texts.text("edited_ignored", self._lang(update)))

    async def on_non_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        caption = (message.caption or "").strip()
        if caption and self._is_risk(update, caption):
            self._converse_later(update, caption.lstrip("/ "), always=True)
        else:
            self._reply_later(update, texts.text("non_text", self._lang(update)))

    async def on_group(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        assert chat is not None
        key = self._pseudonym(update)
        if key in self._refused_groups:
            return
        self._refused_groups[key] = None
        while len(self._refused_groups) > 10_000:
            self._refused_groups.popitem(last=False)
        chat_id, lang = chat.id, user_language(self._language_code(update))

        async def refuse_and_leave() -> None:
            await self._send().send_text(chat_id, texts.text("group_refusal", lang))
            await with_network_retries(lambda: self._send().bot.leave_chat(chat_id))

        self._enqueue(update, key, refuse_and_leave)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        chat = update.effective_chat
        assert query is not None
        sender = self._send()
        if chat is None or chat.type != ChatType.PRIVATE:
            self._spawn(
                sender.answer_callback(
                    query.id,
                    texts.text("group_refusal", user_language(self._language_code(update)))[:200],
                )
            )
            return
        pseudonym = self._pseudonym(update)
        if self.lanes.is_full(pseudonym):
            self._spawn(
                sender.answer_callback(
                    query.id, texts.text("flood_notice", self._lang(update))[:200]
                )
            )
            return
        chat_id = chat.id
        message_id = query.message.message_id if query.message is not None else None
        data = query.data or ""
        # Telegram fills in the message with the keyboard it showed; the data comes from the user's
        # client, which can send anything: only the data of a button on that keyboard counts.
        markup = getattr(query.message, "reply_markup", None)
        offered = {
            button.callback_data
            for row in (markup.inline_keyboard if markup else ())
            for button in row
        }
        language_code, lang = self._language_code(update), self._lang(update)

        async def press() -> None:
            payload = self.callback_data.resolve(data) if data in offered else None
            if payload is None or (
                message_id is not None and not self.keyboards.accepts(pseudonym, message_id)
            ):
                await sender.answer_callback(
                    query.id,
                    texts.text(
                        "button_expired" if payload is None else "button_already_answered", lang
                    ),
                )
                if message_id is not None:
                    await sender.remove_keyboard(chat_id, message_id)
                return
            self.keyboards.set(
                pseudonym, None
            )  # this keyboard is used up, even before Rasa answers
            await sender.answer_callback(query.id)
            if message_id is not None:
                await sender.remove_keyboard(chat_id, message_id)
            await self._converse(
                chat_id,
                pseudonym,
                payload,
                language_code,
                pressed=buttons_from_keyboard(markup, self.callback_data),
            )

        self._enqueue(update, pseudonym, press)

    async def settle_unclaimed(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An update that got no lane job (a notice, a flood drop, a group) is done when handled."""
        if update.update_id not in self._claimed:
            self._settle(update.update_id)

    def _settle(self, update_id: int) -> None:
        self._claimed.discard(update_id)
        if self.inbox is not None:
            try:
                self.inbox.done(update_id)
            except Exception as exc:  # it would only be answered again after a restart
                logger.error("inbox delete failed: %s", type(exc).__name__, exc_info=True)

    async def drop_malformed(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if not well_formed(update):
            logger.warning("dropped a malformed update")
            self._settle(update.update_id)  # no later handler runs, settle_unclaimed included
            raise ApplicationHandlerStop

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Exception type and pseudonym only: never the update, the text or the traceback's locals."""
        pseudonym = "-"
        if isinstance(update, Update) and update.effective_chat is not None:
            pseudonym = self._pseudonym(update)
        logger.error(
            "telegram error for %s: %s",
            pseudonym,
            type(context.error).__name__,
            exc_info=context.error,
        )

    # -- jobs

    def _converse_later(self, update: Update, text: str, *, always: bool = False) -> None:
        """Queue a message to the gateway; when the chat floods, drop it unless it may be a risk."""
        chat = update.effective_chat
        assert chat is not None
        pseudonym = self._pseudonym(update)
        if self.lanes.is_full(pseudonym) and not always and not self._is_risk(update, text):
            if self.lanes.first_overflow(pseudonym):
                self._spawn(
                    self._send().send_text(chat.id, texts.text("flood_notice", self._lang(update)))
                )
            logger.info("flood: dropped a message from %s", pseudonym)
            return
        chat_id, language_code = chat.id, self._language_code(update)
        if self.lanes.pending(pseudonym):
            # An earlier turn of this chat is still waiting for Rasa: a crisis reply does not wait
            # behind it (the turn itself, in its place, sends the rest and not this again).
            ahead = self.gateway.crisis_ahead(pseudonym, text, language_code)
            if ahead:
                self._spawn(self._send().send_replies(chat_id, pseudonym, ahead))
        self._enqueue(
            update, pseudonym, lambda: self._converse(chat_id, pseudonym, text, language_code)
        )

    def _reply_later(self, update: Update, text: str) -> None:
        chat = update.effective_chat
        assert chat is not None
        pseudonym = self._pseudonym(update)
        if self.lanes.is_full(pseudonym):
            return  # a local canned reply is never worth growing a flooding chat's queue
        chat_id = chat.id
        self._enqueue(update, pseudonym, lambda: self._send_plain(chat_id, text))

    def _offer_languages_later(self, update: Update) -> None:
        """/language alone: one button per language. A tap sends Rasa the choice, which switches
        and asks the open question again in that language."""
        chat = update.effective_chat
        assert chat is not None
        pseudonym, chat_id, lang = self._pseudonym(update), chat.id, self._lang(update)
        offer = Reply(texts.text("language_question", lang), buttons=texts.language_buttons())
        self._enqueue(
            update, pseudonym, lambda: self._send().send_replies(chat_id, pseudonym, [offer])
        )

    async def _send_plain(self, chat_id: int, text: str) -> None:
        await self._send().send_text(chat_id, text)

    async def _converse(
        self,
        chat_id: int,
        pseudonym: str,
        text: str,
        language_code: Optional[str],
        *,
        pressed: Tuple[Button, ...] = (),
    ) -> None:
        """One message through the gateway, in the chat's lane (so the chat's order holds).

        The gateway shows a safety reply through `show_now` the moment it has detected the risk,
        without waiting for Rasa; the rest of the turn follows when Rasa has answered. `pressed`:
        the keyboard a button press came from, shown again if the fail-safe answers the press.
        """
        sender = self._send()

        async def show_now(replies: List[Reply]) -> None:
            await sender.send_replies(chat_id, pseudonym, replies)

        async with sender.typing(chat_id):
            replies = await self.gateway.handle(
                pseudonym, text, language_code=language_code, send=show_now
            )
        await sender.send_replies(chat_id, pseudonym, give_buttons_back(replies, pressed))

    def _enqueue(self, update: Update, key: str, job: Callable[[], Awaitable[None]]) -> None:
        application = self.application
        assert application is not None

        async def guarded() -> None:
            try:
                await job()
            except Exception as exc:
                await application.process_error(update=update, error=exc)
            self._settle(update.update_id)  # not when cancelled: the next start answers it then

        self._claimed.add(update.update_id)
        self.lanes.submit(key, guarded)

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        assert self.application is not None
        self.application.create_task(coroutine, name="scrollcheck:notice")

    def _send(self) -> ReplySender:
        assert self.sender is not None, "install() first"
        return self.sender
