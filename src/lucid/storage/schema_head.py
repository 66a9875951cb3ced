"""The schema revision this version of Lucid needs: the head of `migrations/versions`."""

SCHEMA_HEAD = "0023"
