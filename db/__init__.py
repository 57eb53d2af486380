"""Persistence: SQLModel tables (db.models), engines and sessions (db.engine), Alembic
migrations (db.migrate, db/migrations), column types with the project's data contracts
(db.types), history guards (db.guards). See db/README.md."""
