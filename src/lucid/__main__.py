"""`python -m lucid` runs the command line."""

from lucid.cli.main import main

main()
