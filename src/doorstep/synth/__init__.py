"""Deterministic synthetic portfolio generator (pure numpy + pyarrow, no Django)."""

from doorstep.synth.portfolio import GeneratedCounts, generate_portfolio, last_closed_day

__all__ = ["GeneratedCounts", "generate_portfolio", "last_closed_day"]
