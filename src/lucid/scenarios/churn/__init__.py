"""The SaaS churn world of the seed: its definitions and its generator (`world`)."""

from pathlib import Path

CANONICAL_DEFINITIONS = Path(__file__).with_name("customer_activity.yaml")
"""The seed's canonical `customer_activity_30d`, with its sources."""

LEGACY_DEFINITIONS = Path(__file__).with_name("legacy_activity.yaml")
"""The seed's three contradictory team definitions of activity."""

SPEND_DEFINITIONS = Path(__file__).with_name("customer_spend.yaml")
"""The seed world's paid amount over 30 days (needs the purchases source)."""

WORLD_SOURCES = Path(__file__).with_name("world_sources.yaml")
"""The generated world's app_interactions and support_tickets sources."""

TICKETS_DEFINITIONS = Path(__file__).with_name("customer_tickets.yaml")
"""The churn world's support tickets over 30 days (needs the support_tickets source)."""
