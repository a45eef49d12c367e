"""``python -m wac.cli``: the wac command line."""

from wac.cli.app import main

main()
