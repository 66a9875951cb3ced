"""Notifications: alerts and digests to their channels, events to webhook subscribers.

One HTTP client (`http`), one retry loop that records every attempt (`retries`), one
`Notifier` per destination kind (`channels`).
"""
