"""The NIMH ASQ acuity question, asked after the self-harm concern reply (acuity_form).

    "Are you having thoughts of killing yourself right now?"  [Yes] [No]
    yes, or unclear after asking once more -> the urgent reply, emergency number first
    no -> the numbers stay; back to the check-in (if one was running) or stop

The answer is read by bot.safety.answers.parse_yes_no, the one parser the gateway uses too. A tap
on the crisis reply's country buttons while the question is open sets the country, shows that
country's help numbers, and the question is asked again.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text, Union

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import checkin_finished, checkin_started, user_just_answered, user_language
from actions.crisis import (
    ACUITY_FORM,
    country_answer,
    followed_risk,
    set_country,
    urgent_after_yes,
    utter_prompt,
)
from bot.safety.answers import parse_yes_no
from bot.safety.replies import acuity_no_reply, acuity_question, answer_reask, reply_language

MAX_ACUITY_REASKS = 1
UNCLEAR = "unclear"  # an answer that stayed unclear: treated like a yes


def read_yes_no(
    dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, max_reasks: int
) -> List[EventType]:
    """A safety question's answer into `slot` (the acuity and the direct check forms): yes, no,
    or after `max_reasks` re-asks UNCLEAR, which counts as yes."""
    lang = crisis_language(tracker)
    answer: Union[bool, str, None] = parse_yes_no(tracker.latest_message.get("text"), lang)
    if answer is None:
        reasks = int(tracker.get_slot("reask_count") or 0) + 1
        if reasks <= max_reasks:
            dispatcher.utter_message(text=answer_reask(lang).text)  # the form then asks again
            return [SlotSet("reask_count", reasks), SlotSet("requested_slot", slot)]
        answer = UNCLEAR  # safety first: treated like a yes
    return [SlotSet(slot, answer), SlotSet("reask_count", 0), SlotSet("requested_slot", None)]


def crisis_language(tracker: Tracker) -> str:
    """The language the crisis reply was given in (kept in crisis_risk), else the user's."""
    return reply_language(followed_risk(tracker), user_language(tracker))


class ActionAskAcuityNow(Action):
    def name(self) -> Text:
        return "action_ask_acuity_now"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        # Always Rasa's to ask: the gateway's fast path sends the crisis messages, not this question.
        utter_prompt(dispatcher, acuity_question(crisis_language(tracker)))
        return []


class ValidateAcuityForm(Action):
    """Reads the yes/no answer to the acuity question; an unclear answer counts as yes."""

    def name(self) -> Text:
        return "validate_acuity_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        if tracker.get_slot("requested_slot") != "acuity_now" or not user_just_answered(
            tracker, ACUITY_FORM
        ):
            return [
                SlotSet(
                    "requested_slot",
                    "acuity_now" if tracker.get_slot("acuity_now") is None else None,
                )
            ]
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent in ("risk_disclosure", "stop", "goodbye"):
            return []  # a new risk message is answered first by the crisis rule; stop stops
        if intent == "inform":
            code = country_answer(tracker)
            if code is not None:  # the country buttons of the crisis reply
                return set_country(dispatcher, tracker, code) + [
                    SlotSet("requested_slot", "acuity_now")
                ]
        return read_yes_no(dispatcher, tracker, "acuity_now", MAX_ACUITY_REASKS)


class ActionAcuityOutcome(Action):
    def name(self) -> Text:
        return "action_acuity_outcome"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        answer = tracker.get_slot("acuity_now")
        lang = crisis_language(tracker)
        events: List[EventType] = [SlotSet("acuity_now", None), SlotSet("reask_count", 0)]
        if answer is False:
            in_checkin = checkin_started(tracker) and not checkin_finished(tracker)
            utter_prompt(dispatcher, acuity_no_reply(lang, in_checkin))
            return events + [SlotSet("crisis_followup", None)]
        return events + [SlotSet("crisis_followup", urgent_after_yes(dispatcher, tracker, lang))]
