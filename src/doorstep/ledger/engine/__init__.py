"""Pure ledger arithmetic: no database, dates and integer cents in, figures out."""
