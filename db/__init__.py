"""Storage: SQLModel tables, engine setup and Alembic migrations. No workflow rules."""
