"""The model registry's use cases: the value contract applied to stored model versions."""
