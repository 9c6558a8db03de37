"""`python -m lmsbridge` runs the command line."""

from lmsbridge.cli.main import cli

cli()
