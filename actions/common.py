"""Small helpers shared by the actions: content access, control messages, slot groups."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet

from bot.languages import languages
from bot.screening.content import Screening, screening

if TYPE_CHECKING:
    from bot.safety.result import RiskResult

CHECKIN_FORM = "checkin_form"
# Slots that belong to one check-in; a new check-in clears them (consent and profile are kept).
PROFILE_SLOTS = ("consent", "age_band", "country")


def content() -> Screening:
    return screening()


def item_slots() -> List[str]:
    return content().item_slots


def checkin_slots() -> List[str]:
    return ["topics", *item_slots(), "share_results", "checkin_id", "reask_count"]


def chosen_topics(tracker: Tracker) -> List[str]:
    value = tracker.get_slot("topics")
    if isinstance(value, str):
        value = [value]
    return [t for t in content().topic_order if value and t in value]


def checkin_started(tracker: Tracker) -> bool:
    """True once the user has answered anything of the current check-in."""
    return any(tracker.get_slot(s) is not None for s in ("consent", "topics", *item_slots()))


def checkin_finished(tracker: Tracker) -> bool:
    return tracker.get_slot("share_results") is not None or (
        tracker.get_slot("consent") is False and _all_items_done(tracker)
    )


def _all_items_done(tracker: Tracker) -> bool:
    topics = chosen_topics(tracker)
    if not topics:
        return False
    return all(
        tracker.get_slot(i.id) is not None for t in topics for i in content().topics[t].items
    )


def reset_checkin_events() -> List[SlotSet]:
    return [SlotSet(s, None) for s in checkin_slots()] + [SlotSet("requested_slot", None)]


def latest_metadata(tracker: Tracker) -> Dict[str, Any]:
    """The metadata the gateway sent with the latest message ({} when there is none)."""
    metadata = tracker.latest_message.get("metadata") or {}
    return metadata if isinstance(metadata, dict) else {}


def language_code(tracker: Tracker) -> Optional[str]:
    """Telegram's language code passed by the gateway as metadata (nothing else identifying)."""
    code = latest_metadata(tracker).get("language_code")
    return code if isinstance(code, str) else None


def user_language(tracker: Tracker) -> str:
    """The chat's language: the `language` slot (set at session start from Telegram's language
    code, then by the user's choice or a clearly Dutch or English message), else the language
    code of this message, else the default language (data/languages.yml)."""
    settings = languages()
    return (
        settings.normalise(tracker.get_slot("language"))
        or settings.normalise(language_code(tracker))
        or settings.default
    )


def safety_replied(tracker: Tracker) -> bool:
    """True when the gateway has already sent the safety reply to the latest message (api.md:
    the crisis messages, or the direct question). Rasa then sets up what follows but repeats
    none of it."""
    return latest_metadata(tracker).get("safety_replied") is True


def gateway_risk(tracker: Tracker) -> Optional[RiskResult]:
    """The gateway's reading of the latest message (metadata["risk"]) as a RiskResult, or None."""
    from bot.safety.result import RiskResult

    return RiskResult.from_dict(latest_metadata(tracker).get("risk"))


def user_country(tracker: Tracker) -> Optional[str]:
    """The country the user told us; else a country implied by their language code; else None."""
    country = tracker.get_slot("country")
    if isinstance(country, str) and country not in ("", "unknown"):
        return country
    from bot.safety.resources import country_from_language_code

    return country_from_language_code(language_code(tracker))


def user_just_answered(tracker: Tracker, form_name: str) -> bool:
    """True when the form runs on a fresh user message (so it may read it as an answer).

    Rasa hands the validator a temporary tracker that ends with the form's own ActionExecuted;
    the action before it tells the cases apart: `action_listen` means the user just replied;
    anything else is the form's activation or its return after an interruption (utter_why, …),
    when the latest message was already handled and must not be read again.
    """
    events = list(tracker.events)
    if events and events[-1].get("event") == "action" and events[-1].get("name") == form_name:
        events = events[:-1]
    for event in reversed(events):
        if event.get("event") == "action":
            return event.get("name") == "action_listen"
    return False


def control(**payload: Any) -> Dict[str, Any]:
    """A control message for the gateway (never shown to the user); see bot/gateway/."""
    return {"scrollcheck": payload}


def utter_in_language(dispatcher: Any, domain: Dict[str, Any], response: str, lang: str) -> None:
    """Send a domain response in `lang` when this same action sets the `language` slot.

    Rasa renders an action's responses against the tracker as it was *before* the action's own
    events, so its conditional variations would still see the old language. This picks the
    variation whose condition is `language == lang` (else the one without a condition) the way
    Rasa would, for the two actions that change the language and speak in the same turn.
    """
    variations = (domain.get("responses") or {}).get(response) or []
    chosen = None
    for variation in variations:
        conditions = variation.get("condition") or []
        if not conditions and chosen is None:
            chosen = variation
        if any(c.get("name") == "language" and c.get("value") == lang for c in conditions):
            chosen = variation
            break
    if chosen is None:
        dispatcher.utter_message(response=response)
        return
    dispatcher.utter_message(
        text=chosen.get("text"),
        buttons=chosen.get("buttons") or [],
        json_message=chosen.get("custom"),
    )
