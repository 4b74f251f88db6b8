"""The operator console: server-rendered pages for running a community in a browser."""
