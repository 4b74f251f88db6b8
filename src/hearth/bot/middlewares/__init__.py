"""Outer middlewares, in the order they wrap every update."""
