"""The semantic contract's use cases: definition files, governance, computing features."""
