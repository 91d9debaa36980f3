"""The direct check for an uncertain signal (level `check`), modelled on the NIMH ASQ (check_form).

    "Some of what you wrote made me want to check on you: are you having thoughts of killing
     yourself or hurting yourself?"  [Yes] [No]      (each category has its own question)
    yes, or unclear after asking once more -> the concern reply of that category (for self_harm
        then the acuity question)
    no -> a short thank-you; the form the risk message paused (check-in, erase confirmation)
        resumes at the same question, or nothing was running and the bot listens

action_crisis_response sets it up (crisis_risk, paused_form, crisis_followup: check); a new risk
message while the question is open is answered by the crisis rules first.
"""

from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.acuity import crisis_language, read_yes_no
from actions.common import gateway_risk, safety_replied, user_just_answered
from actions.crisis import (
    CHECK_FORM,
    CLASSIFIER_ONLY,
    RESUMABLE_FORMS,
    after_crisis_reply,
    followed_risk,
    record_escalation,
    send_crisis_reply,
    utter_prompt,
)
from bot.safety import RiskResult
from bot.safety.replies import check_no_reply, check_question
from bot.safety.result import strongest

MAX_CHECK_REASKS = 1


class ActionAskCheckAnswer(Action):
    def name(self) -> Text:
        return "action_ask_check_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        if safety_replied(tracker):
            return []  # the gateway has asked it already, with the same words and buttons
        followed = followed_risk(tracker) or CLASSIFIER_ONLY
        utter_prompt(dispatcher, check_question(followed, crisis_language(tracker)))
        return []


class ValidateCheckForm(Action):
    """Reads the yes/no answer to the direct question; an unclear answer counts as yes."""

    def name(self) -> Text:
        return "validate_check_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        if tracker.get_slot("requested_slot") != "check_answer" or not user_just_answered(
            tracker, CHECK_FORM
        ):
            return [
                SlotSet(
                    "requested_slot",
                    "check_answer" if tracker.get_slot("check_answer") is None else None,
                )
            ]
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent in ("risk_disclosure", "stop", "goodbye"):
            return []  # a new risk message is answered first by the crisis rule; stop stops
        return read_yes_no(dispatcher, tracker, "check_answer", MAX_CHECK_REASKS)


class ActionCheckOutcome(Action):
    def name(self) -> Text:
        return "action_check_outcome"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[EventType]:
        followed = followed_risk(tracker) or CLASSIFIER_ONLY
        lang = crisis_language(tracker)
        events: List[EventType] = [
            SlotSet("check_answer", None),
            SlotSet("reask_count", 0),
            SlotSet("paused_form", None),
        ]
        if tracker.get_slot("check_answer") is False:
            dispatcher.utter_message(text=check_no_reply(lang))
            resume = RESUMABLE_FORMS.get(tracker.get_slot("paused_form") or "", "none")
            return events + [SlotSet("crisis_followup", resume)]
        # Yes or unclear: the concern reply of the same category (the gateway reads a tapped "Yes"
        # the same way and may have sent it already: then its reading counts too).
        result = RiskResult("concern", followed.category, tuple(followed.matched), lang)
        gateway = gateway_risk(tracker) if safety_replied(tracker) else None
        if gateway is not None and gateway.is_crisis:
            result = strongest(
                [result, RiskResult(gateway.level, gateway.category, tuple(gateway.matched), lang)]
            )
        reply = send_crisis_reply(dispatcher, tracker, result, lang)
        record_escalation(tracker, result.level, result.category)
        return events + [
            SlotSet("crisis_risk", result.as_dict()),
            SlotSet("crisis_followup", after_crisis_reply(reply)),
        ]
