"""The crisis path. Any risk signal, in any state, is answered here in the same turn.

Flow (rules in data/rules/crisis.yml; every text from bot.safety.replies, in the chat's language):
  risk_disclosure -> action_crisis_response: pauses any form, then by level
    check   -> the direct question (check_form, actions/direct_check.py); yes or unclear -> the
               concern reply of that category, no -> the paused check-in resumes
    concern -> the crisis reply for the user's country; for self_harm the ASQ acuity question
               follows (acuity_form, actions/acuity.py)
    urgent  -> the crisis reply with the emergency number first
  An unknown country: the reply ends with the country question and its buttons; a tap
  (/inform{"country": ...}) sets the country and shows that country's help numbers
  (action_set_country, or the acuity form's validator while the acuity question is open).

The gateway agreement (docs: /work/shared api.md, bot/gateway/core.py): when the latest message
carries metadata {"safety_replied": true, "risk": ...}, the gateway has already sent the crisis
messages or the direct question. Rasa then utters none of them, but still records the escalation
and sets up the forms and slots of what follows.
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import storage
from actions.common import control, gateway_risk, safety_replied, user_country, user_language
from actions.profile import UNKNOWN_COUNTRY, parse_country
from bot.safety import RiskResult, detect
from bot.safety.answers import parse_yes_no
from bot.safety.replies import (
    Button,
    CrisisReply,
    Prompt,
    country_question,
    crisis_reply,
    reply_language,
    resources_text,
    urgent_reply,
)
from bot.safety.result import strongest

CHECK_FORM = "check_form"
ACUITY_FORM = "acuity_form"
CRISIS_FORMS = (CHECK_FORM, ACUITY_FORM)  # the crisis path's own questions
RESUMABLE_FORMS = {
    "checkin_form": "resume_checkin",
    "forget_form": "resume_forget",
}  # the user's own
# What action_crisis_response leaves in `crisis_followup` (the rules branch on it; `scrollcheck
# validate` checks data/rules/crisis.yml has a rule for each, in every form and outside them).
FOLLOWUPS = ("check", "acuity", "country", "none")

# When Rasa's intent classifier alone said risk_disclosure (the detector found nothing; off by
# default, see bot/nlp/risk_component.py), the signal is uncertain: ask directly.
CLASSIFIER_ONLY = RiskResult(level="check", category="self_harm", matched=("classifier",))


# -- shared by the crisis-path actions ---------------------------------------------------------
def risk_of_latest_message(tracker: Tracker) -> RiskResult:
    """The strongest of the RiskDetector's reading (parse data), the gateway's (metadata) and,
    when neither found risk, the detector run here on the text."""
    found = [
        r
        for r in (RiskResult.from_dict(tracker.latest_message.get("risk")), gateway_risk(tracker))
        if r
    ]
    result = strongest(found)
    if result.is_risk:
        return result
    text = tracker.latest_message.get("text") or ""
    if text and not text.startswith("/"):
        result = detect(text, user_language(tracker))
    return result if result.is_risk else CLASSIFIER_ONLY


def followed_risk(tracker: Tracker) -> Optional[RiskResult]:
    """The risk the open crisis-path question is about (slot crisis_risk), or None."""
    return RiskResult.from_dict(tracker.get_slot("crisis_risk"))


def with_language(result: RiskResult, lang: str) -> RiskResult:
    return RiskResult(result.level, result.category, tuple(result.matched), lang)


def escalation_pseudonym(tracker: Tracker) -> Optional[str]:
    # Escalations are always counted; they carry the pseudonym only with screening consent.
    return tracker.sender_id if tracker.get_slot("consent") is True else None


def record_escalation(tracker: Tracker, level: str, category: Optional[str]) -> None:
    storage.record_escalation(
        level=level, category=category or "self_harm", pseudonym=escalation_pseudonym(tracker)
    )


def utter_all(
    dispatcher: CollectingDispatcher, messages: Iterable[str], buttons: Iterable[Button] = ()
) -> None:
    """Send messages in order; (title, payload) buttons go with the last one."""
    messages = list(messages)
    for index, message in enumerate(messages):
        last = index == len(messages) - 1
        if last and buttons:
            dispatcher.utter_message(
                text=message, buttons=[{"title": t, "payload": p} for t, p in buttons]
            )
        else:
            dispatcher.utter_message(text=message)


def utter_prompt(dispatcher: CollectingDispatcher, prompt: Prompt) -> None:
    """A bot.safety.replies.Prompt: its text with its buttons."""
    utter_all(dispatcher, [prompt.text], prompt.buttons)


def send_crisis_reply(
    dispatcher: CollectingDispatcher, tracker: Tracker, result: RiskResult, lang: str
) -> CrisisReply:
    """The concern/urgent reply for the user's country, unless the gateway has sent it already."""
    reply = crisis_reply(result, user_country(tracker), lang)
    if not safety_replied(tracker):
        utter_all(dispatcher, reply.messages, reply.buttons)
    return reply


def urgent_after_yes(dispatcher: CollectingDispatcher, tracker: Tracker, lang: str) -> str:
    """A yes (or unclear answer) to the acuity question: the urgent reply, emergency number first
    (unless the gateway has sent it), then, if the country is still unknown, the country question.
    Returns what follows (`crisis_followup`)."""
    country = user_country(tracker)
    if not safety_replied(tracker):
        utter_all(dispatcher, urgent_reply(country, lang))
    record_escalation(tracker, "urgent", "self_harm")
    if country is None:
        utter_prompt(
            dispatcher, country_question(lang)
        )  # the gateway's urgent reply does not ask it
        return "country"
    return "none"


def after_crisis_reply(reply: CrisisReply) -> str:
    """What follows a crisis reply: the acuity question, the open country question, or nothing."""
    if reply.ask_acuity:
        return "acuity"
    return "country" if reply.buttons else "none"


def country_answer(tracker: Tracker) -> Optional[str]:
    """A country from the latest message: the country buttons' entity, else the typed name.
    An ISO code, "unknown" for "somewhere else", or None when the message names no country."""
    for entity in tracker.latest_message.get("entities") or []:
        if entity.get("entity") == "country" and isinstance(entity.get("value"), str):
            value = entity["value"].strip()
            if value == UNKNOWN_COUNTRY:
                return UNKNOWN_COUNTRY
            if len(value) == 2 and value.isalpha():
                return value.upper()
            return parse_country(value)
    text = tracker.latest_message.get("text") or ""
    return None if text.startswith("/") else parse_country(text)


def set_country(dispatcher: CollectingDispatcher, tracker: Tracker, code: str) -> List[EventType]:
    """Remember the country and show its help numbers (in the language of the crisis reply)."""
    followed = followed_risk(tracker)
    lang = reply_language(followed, user_language(tracker))
    dispatcher.utter_message(text=resources_text(None if code == UNKNOWN_COUNTRY else code, lang))
    # The gateway keeps the country too, for its own fast path (as the check-in's country answer does).
    dispatcher.utter_message(
        json_message=control(country=None if code == UNKNOWN_COUNTRY else code)
    )
    return [SlotSet("country", code)]


# -- the actions ---------------------------------------------------------------------------------
class ActionCrisisResponse(Action):
    def name(self) -> Text:
        return "action_crisis_response"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        result = risk_of_latest_message(tracker)
        active = tracker.active_loop_name
        followed = followed_risk(tracker) if active in CRISIS_FORMS else None
        after_acuity_yes = False
        if (
            followed is not None
            and parse_yes_no(tracker.latest_message.get("text"), user_language(tracker)) is True
        ):
            # A yes inside a crisis question ("yes i want to die") answers it, as the gateway reads it.
            after_acuity_yes = active == ACUITY_FORM
            target = (
                RiskResult("urgent", "self_harm", followed.matched, followed.lang)
                if after_acuity_yes
                else RiskResult("concern", followed.category, followed.matched, followed.lang)
            )
            result = strongest([target, result])
        lang = reply_language(result, user_language(tracker))
        result = with_language(result, lang)

        # Pause whatever form was running. The user's own form (check-in, erase confirmation) is
        # remembered so that a "no" to the direct question resumes it at the same question.
        events: List[EventType] = (
            [ActiveLoop(None), SlotSet("requested_slot", None)] if active else []
        )
        # (A crisis question that was open keeps what it had paused; nothing open: nothing to resume.)
        paused = (
            active
            if active in RESUMABLE_FORMS
            else tracker.get_slot("paused_form")
            if active in CRISIS_FORMS
            else None
        )
        events += [
            SlotSet("reask_count", 0),
            SlotSet("acuity_now", None),
            SlotSet("check_answer", None),
            SlotSet("crisis_risk", result.as_dict()),
        ]

        if result.level == "check":
            # The question itself is asked by the check form (action_ask_check_answer).
            return events + [SlotSet("paused_form", paused), SlotSet("crisis_followup", "check")]

        if after_acuity_yes and result.level == "urgent" and result.category == "self_harm":
            return events + [
                SlotSet("paused_form", None),
                SlotSet("crisis_followup", urgent_after_yes(dispatcher, tracker, lang)),
            ]

        reply = send_crisis_reply(dispatcher, tracker, result, lang)
        record_escalation(tracker, result.level, result.category)
        # After crisis resources the check-in is not resumed by itself: the user chooses.
        return events + [
            SlotSet("paused_form", None),
            SlotSet("crisis_followup", after_crisis_reply(reply)),
        ]


class ActionSetCountry(Action):
    """A tap on the crisis reply's country buttons (or a typed country) while nothing else is open."""

    def name(self) -> Text:
        return "action_set_country"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        code = country_answer(tracker)
        if code is None:
            dispatcher.utter_message(
                response="utter_not_in_checkin"
            )  # what `inform` gets otherwise
            return [SlotSet("crisis_followup", None)]
        return set_country(dispatcher, tracker, code) + [SlotSet("crisis_followup", None)]
