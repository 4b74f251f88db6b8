"""Use cases: one module each. Services take a unit of work and never touch Telegram or SQL."""
