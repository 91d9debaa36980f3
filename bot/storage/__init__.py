"""Storage: SQLAlchemy models, Alembic migrations, the repository the Rasa actions write through,
erasure (/forget) and retention (purge). See db.py for connections and repository.py for writes."""
