"""Pure rules of Hearth: no I/O, no Telegram, no SQL. Time is always passed in."""
