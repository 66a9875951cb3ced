"""The transparency dashboard: server-rendered pages every stakeholder can read."""
