"""Benchmarks behind `doorstep bench NAME`: each module has `add_arguments(parser)` and
`run(options, out) -> dict` returning the figures printed (and, with --json, emitted as JSON)."""
