"""A synthetic community and a local Bot API stand-in: demos, end-to-end tests, benchmarks."""
