"""Clinician review page: Flask app (app.py), accounts CLI (accounts.py), queries, charts, exports."""
