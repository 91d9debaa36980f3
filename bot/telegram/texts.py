"""What the Telegram front end says by itself (everything else comes from Rasa or bot.safety).

Plain text, no parse mode: nothing here (or in Rasa's texts) is interpreted as Markdown or HTML.
"""
from __future__ import annotations

from typing import Tuple

# (command, description) for setMyCommands, in menu order.
COMMANDS: Tuple[Tuple[str, str], ...] = (
    ("start", "Start or continue the check-in"),
    ("help", "What I can do and how to use me"),
    ("resources", "Help numbers and chats, right now"),
    ("stop", "Pause the check-in"),
    ("forget", "Erase everything I have about you"),
    ("privacy", "What happens to your answers"),
)

# Commands that are messages to Rasa: the payload is what Rasa receives.
COMMAND_PAYLOADS = {
    "start": "/greet",
    "resources": "/request_resources",
    "stop": "/stop",
    "forget": "/delete_data",
    "privacy": "/ask_privacy",
}

HELP = (
    "I'm scrollcheck, an automated assistant (not a human and not a therapist). I run a short "
    "check-in about how social media is treating you: comparing yourself with others, fear of "
    "missing out, and mean stuff online.\n\n"
    "You can tap the buttons or just type your answers.\n\n"
    "/start - start or continue the check-in\n"
    "/resources - help numbers and chats, right now\n"
    "/stop - pause the check-in\n"
    "/forget - erase everything I have about you\n"
    "/privacy - what happens to your answers\n\n"
    "If you are in danger or thinking about hurting yourself, send /resources or call your local "
    "emergency number now."
)

UNKNOWN_COMMAND = "I don't know that command. Send /help to see what I can do."

NON_TEXT = (
    "I can only read text messages, so I couldn't see that one. Could you type it instead? "
    "If you need help right now, send /resources."
)

EDITED_IGNORED = (
    "I only read new messages, so I didn't see that edit. If you want to change an answer, "
    "just send it again as a new message."
)

GROUP_REFUSAL = (
    "Hi! I only work in private one-to-one chats, because the check-in is personal. "
    "Open a private chat with me to start. I'll leave this group now."
)

FLOOD_NOTICE = (
    "You're sending messages faster than I can read them, so I skipped a few. "
    "I'll answer the ones I have; send anything important again in a moment."
)

# answerCallbackQuery texts (at most 200 characters, shown as a small toast).
BUTTON_ALREADY_ANSWERED = "That question was already answered. Use the newest buttons or type your answer."
BUTTON_EXPIRED = "That button has expired. Please type your answer instead."
