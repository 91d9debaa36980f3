"""The gateway between a front end (Telegram, console) and Rasa, and the safety fast path.

A front end calls `Gateway.handle(pseudonym, text, language_code=..., send=...)`. The gateway:

* normalises whitespace and bounds the length of the text (MAX_INPUT_CHARS) before Rasa sees it,
  and tells the user when it cut a message short (text.py);
* keeps the last three messages of each chat in memory (memory.py: bounded, never logged or
  stored, erased by forget()) and runs bot.safety.detect ONCE per message with them; that one
  result serves the whole turn (safety.py);
* the safety fast path: for a risk message (level check or above) it sends the safety reply (the
  crisis messages, or the direct check question) through `send` at once, without waiting for
  Rasa, and posts the message to Rasa (at the same time) with metadata {"language_code",
  "risk": result.as_dict(), "safety_replied": true}; Rasa then records the escalation and sets
  up the follow-up (the acuity question, the check question's answer) without repeating the
  text. An answer of [] from Rasa is then not a failure. A "yes" to a safety question gets its
  crisis reply the same way;
* posts to Rasa's REST webhook over loopback with ONE shared aiohttp session and a hard total bound
  per message (DEFAULT_TIMEOUT_SECONDS: connect, send, NLU, the action server and the answer);
* strips the `scrollcheck` control messages out of Rasa's answer and acts on them (remember the
  user's country, reset the disclosure clock, erase the user's data after the turn) (rasa.py);
* adds the "automated assistant, not a human, not a therapist" reminder when the last disclosure
  for this pseudonym is unknown or more than 3 hours old (bot.disclosure);
* is the fail-safe: when Rasa or the action server is down, slow or erroring, a risk message has
  had its safety reply already and gets only the follow-up Rasa would have asked (the acuity
  question, whose answer the gateway then reads itself); anything else gets "briefly
  unavailable, here is how to get help now", marked `Reply.send_again` (the message did not
  count: a front end gives a pressed button's keyboard back with it). It never raises to the
  front end.

A dead action server hides behind a living Rasa (it answers [] or a misleading fallback), so the
gateway also asks the action server's /health: remembered for a few seconds and shared by every
chat, and asked afresh whenever Rasa answers with nothing to show (health.py).

Logs carry pseudonyms and exception types only, never message text.
"""

from bot.gateway.core import (
    CONNECT_TIMEOUT_SECONDS,
    DEFAULT_ACTION_URL,
    DEFAULT_TIMEOUT_SECONDS,
    Gateway,
)
from bot.gateway.health import ActionHealth, action_health_url
from bot.gateway.memory import CONTEXT_MESSAGES, MAX_REMEMBERED_PSEUDONYMS, ChatContext
from bot.gateway.rasa import CONTROL_KEY, RasaTurn, parse_rasa_messages
from bot.gateway.reply import Button, Reply, Send
from bot.gateway.safety import QUESTION_WINDOW_SECONDS
from bot.gateway.text import MAX_INPUT_CHARS, bound_length, normalise_whitespace, user_language

__all__ = [
    "CONNECT_TIMEOUT_SECONDS",
    "CONTEXT_MESSAGES",
    "CONTROL_KEY",
    "DEFAULT_ACTION_URL",
    "DEFAULT_TIMEOUT_SECONDS",
    "MAX_INPUT_CHARS",
    "MAX_REMEMBERED_PSEUDONYMS",
    "QUESTION_WINDOW_SECONDS",
    "ActionHealth",
    "Button",
    "ChatContext",
    "Gateway",
    "RasaTurn",
    "Reply",
    "Send",
    "action_health_url",
    "bound_length",
    "normalise_whitespace",
    "parse_rasa_messages",
    "user_language",
]
