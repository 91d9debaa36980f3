"""Custom actions for the Rasa action server (`rasa run actions`): one class per action.

Where to look: the crisis path is actions/crisis.py (the reply), actions/direct_check.py (the
`check` level's direct question) and actions/acuity.py (the ASQ acuity question); the check-in form and its validator
actions/checkin_form.py, scoring bot/screening/scoring.py, storage calls actions/storage.py.
"""

from bot.logformat import protect_existing_handlers

# rasa_sdk has set up logging before it imports this package: its handlers get the project's
# formatter (errors keep type and stack frames, never a message that could quote a user).
protect_existing_handlers()
