"""Reference scenarios that run Lucid end to end."""
