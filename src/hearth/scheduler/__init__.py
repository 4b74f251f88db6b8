"""APScheduler: explicit job ids, replace_existing, coalesce; jobs are thin calls to services."""
