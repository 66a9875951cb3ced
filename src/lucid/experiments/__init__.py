"""A/B experiments between a production version and its challenger."""
