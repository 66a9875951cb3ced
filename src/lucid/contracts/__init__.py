"""The pure rules of Lucid's three contracts and its memory: value objects, no I/O."""
