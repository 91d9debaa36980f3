"""The crisis path. Any risk signal, in any state, is answered here in the same turn.

Flow (rules in data/rules/crisis.yml):
  risk_disclosure -> action_crisis_response: pauses any form, sends the crisis reply for the
    user's country (urgent: emergency number first), records an escalation event (no text);
  non-urgent self-harm concern -> acuity_form asks the NIMH ASQ acuity question;
  action_acuity_outcome: yes (or no clear answer) -> urgent reply; no -> resources stay, and the
    user may go back to the check-in or stop.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import storage
from actions.common import checkin_finished, checkin_started, user_country, user_just_answered
from actions.profile import parse_yes_no
from bot.safety import RiskResult, detect
from bot.safety.replies import acuity_question, crisis_reply, urgent_reply

# When the classifier alone said risk_disclosure (the detector found no pattern), treat it as a
# non-urgent self-harm concern: asking the acuity question is the safe way to find out more.
_CLASSIFIER_ONLY = RiskResult(level="concern", category="self_harm", matched=("classifier",))
MAX_ACUITY_REASKS = 1


def _risk_of_latest_message(tracker: Tracker) -> RiskResult:
    parsed = tracker.latest_message.get("risk")
    if isinstance(parsed, dict) and parsed.get("level") in ("concern", "urgent"):
        return RiskResult(level=parsed["level"], category=parsed.get("category"), matched=tuple(parsed.get("matched") or ()))
    result = detect(tracker.latest_message.get("text") or "")
    return result if result.is_risk else _CLASSIFIER_ONLY


def _escalation_pseudonym(tracker: Tracker) -> Optional[str]:
    # Escalations are always counted; they carry the pseudonym only with screening consent.
    return tracker.sender_id if tracker.get_slot("consent") is True else None


class ActionCrisisResponse(Action):
    def name(self) -> Text:
        return "action_crisis_response"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        result = _risk_of_latest_message(tracker)
        reply = crisis_reply(result, user_country(tracker))
        for message in reply.messages:
            dispatcher.utter_message(text=message)
        storage.record_escalation(level=result.level, category=result.category or "self_harm", pseudonym=_escalation_pseudonym(tracker))
        followup = "acuity" if reply.ask_acuity else "none"
        # Pause whatever form was running; "continue" resumes it at the same question.
        pause = [ActiveLoop(None), SlotSet("requested_slot", None)] if tracker.active_loop_name else []
        return [
            *pause,
            SlotSet("reask_count", 0),
            SlotSet("acuity_now", None),
            SlotSet("crisis_followup", followup),
        ]


class ActionAskAcuityNow(Action):
    def name(self) -> Text:
        return "action_ask_acuity_now"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(
            text=acuity_question(),
            buttons=[{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}],
        )
        return []


class ValidateAcuityForm(Action):
    """Reads the yes/no answer to the acuity question; an unclear answer counts as yes."""

    def name(self) -> Text:
        return "validate_acuity_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        if tracker.get_slot("requested_slot") != "acuity_now" or not user_just_answered(tracker, "acuity_form"):
            return [SlotSet("requested_slot", "acuity_now" if tracker.get_slot("acuity_now") is None else None)]
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        if intent in ("risk_disclosure", "stop", "goodbye"):
            return []  # a new risk message is answered first by the crisis rule; stop stops
        answer = {"affirm": True, "deny": False}.get(intent or "", parse_yes_no(tracker.latest_message.get("text")))
        if answer is None:
            reasks = int(tracker.get_slot("reask_count") or 0) + 1
            if reasks <= MAX_ACUITY_REASKS:
                dispatcher.utter_message(text="I want to be sure I understand — please answer yes or no.")
                return [SlotSet("reask_count", reasks), SlotSet("requested_slot", "acuity_now")]
            answer = "unclear"  # safety first: treated like a yes
        return [SlotSet("acuity_now", answer), SlotSet("reask_count", 0), SlotSet("requested_slot", None)]


class ActionAcuityOutcome(Action):
    def name(self) -> Text:
        return "action_acuity_outcome"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]) -> List[EventType]:
        answer = tracker.get_slot("acuity_now")
        events: List[EventType] = [SlotSet("crisis_followup", None), SlotSet("acuity_now", None)]
        if answer is False:
            in_progress = checkin_started(tracker) and not checkin_finished(tracker)
            dispatcher.utter_message(
                text="Thank you for telling me. The numbers above are there whenever you need them — "
                "talking to one of them, or to someone you trust, really can help."
                + (" Would you like to go back to the check-in, or stop for now?" if in_progress else ""),
                buttons=[
                    {"title": "Back to the check-in" if in_progress else "Start a check-in", "payload": "/start_screening"},
                    {"title": "Stop for now", "payload": "/stop"},
                ],
            )
            return events
        for message in urgent_reply(user_country(tracker)):
            dispatcher.utter_message(text=message)
        storage.record_escalation(level="urgent", category="self_harm", pseudonym=_escalation_pseudonym(tracker))
        return events
