"""Run custom actions the way the action server does: a rasa_sdk Tracker in, events + messages out.

Messages are rendered through domain.yml, so assertions read what the user would actually see.
"""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List, Optional

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot import PROJECT_ROOT

DOMAIN: Dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))


def all_slots() -> Dict[str, Any]:
    return {name: None for name in DOMAIN["slots"]} | {"requested_slot": None}


def tracker(
    *,
    slots: Optional[Dict[str, Any]] = None,
    intent: Optional[str] = None,
    text: str = "",
    latest_action: str = "action_listen",
    active_loop: Optional[str] = "checkin_form",
    sender: str = "pseudonym-abc",
    metadata: Optional[Dict[str, Any]] = None,
    risk: Optional[Dict[str, Any]] = None,
) -> Tracker:
    # The event tail Rasa sends a form validator: the previous action, the user message (when the
    # previous action was action_listen), then the form's own ActionExecuted.
    events: List[Dict[str, Any]] = [{"event": "action", "name": latest_action}]
    if latest_action == "action_listen":
        events.append({"event": "user", "text": text})
    if active_loop:
        events.append({"event": "action", "name": active_loop})
    latest = {
        "intent": {"name": intent, "confidence": 1.0} if intent else {},
        "text": text,
        "entities": [],
        "metadata": metadata or {},
    }
    if risk:
        latest["risk"] = risk
    return Tracker(
        sender_id=sender,
        slots=all_slots() | (slots or {}),
        latest_message=latest,
        events=events,
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name=active_loop or latest_action,
    )


def run(action: Action, t: Tracker) -> tuple[List[Dict[str, Any]], CollectingDispatcher]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, DOMAIN))
    return events, dispatcher


def slot_updates(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


_MESSAGE_KEYS = {
    "text",
    "buttons",
    "custom",
    "response",
    "template",
    "image",
    "attachment",
    "elements",
    "quick_replies",
    "json_message",
}


def variation(response: str, lang: str = "en") -> Dict[str, Any]:
    """A domain response's variation for `lang` (condition on the `language` slot), as Rasa picks it."""
    variations = DOMAIN["responses"][response]
    for candidate in variations:
        if any(
            c.get("name") == "language" and c.get("value") == lang
            for c in candidate.get("condition") or []
        ):
            return candidate
    return next(v for v in variations if not v.get("condition"))


def rendered(dispatcher: CollectingDispatcher, lang: str = "en") -> List[Dict[str, Any]]:
    """The messages as Rasa sends them: a domain response becomes its variation for `lang` with its
    {placeholders} filled from the action's arguments, and the action's buttons added after the
    response's own (as rasa.core.actions.action.RemoteAction does)."""
    out = []
    for message in dispatcher.messages:
        if message.get("response"):
            template = variation(message["response"], lang)
            values = {k: v for k, v in message.items() if k not in _MESSAGE_KEYS}
            item = {k: v for k, v in template.items() if k in ("text", "buttons", "custom")}
            if values and "text" in item:
                item["text"] = item["text"].format(**values)
            if message.get("buttons"):
                item["buttons"] = [*(item.get("buttons") or []), *message["buttons"]]
            out.append(item)
        else:
            out.append(
                {
                    k: v
                    for k, v in (
                        ("text", message.get("text")),
                        ("buttons", message.get("buttons")),
                        ("custom", message.get("custom")),
                    )
                    if v
                }
            )
    return out


def texts(dispatcher: CollectingDispatcher, lang: str = "en") -> List[str]:
    """What the user sees: the texts, in order."""
    return [m["text"] for m in rendered(dispatcher, lang) if m.get("text")]


def controls(dispatcher: CollectingDispatcher) -> List[Dict[str, Any]]:
    """Control messages for the gateway (never shown to the user)."""
    return [
        m["custom"]["scrollcheck"]
        for m in rendered(dispatcher)
        if isinstance(m.get("custom"), dict) and "scrollcheck" in m["custom"]
    ]
