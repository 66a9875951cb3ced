"""Identity for the HTTP service: API tokens and the principal they authenticate."""
