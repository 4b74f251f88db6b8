"""SQL storage: tables, repositories that never commit, the unit of work that does."""
