"""The Telegram front end (python-telegram-bot 22): `scrollcheck telegram`, see docs/telegram.md.

app.py          settings from the environment, the Application, polling or webhook, logging
handlers.py     what each kind of update does (commands, text, buttons, non-text, edits, groups)
lanes.py        per-chat order, cross-chat concurrency, flood pacing
delivery.py     sending: splitting at 4096, inline keyboards, retries, the live keyboard
callback_data.py  payloads that do not fit Telegram's 64-byte callback_data
texts.py        what the front end says by itself
"""
