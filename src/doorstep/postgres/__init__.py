"""doorstep's PostgreSQL backend: Django's, without the `_like` pattern-ops indexes (see base)."""
