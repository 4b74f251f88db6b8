"""Assembly: dispatcher, middlewares, notifier, runner, start-up."""
