"""doorstep: lawful, explainable consumer-credit collections (贷后管理)."""

__version__ = "0.1.0"
