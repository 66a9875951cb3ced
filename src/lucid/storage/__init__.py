"""Storage adapters: metadata (SQLAlchemy + Alembic), online stores and artifacts."""
