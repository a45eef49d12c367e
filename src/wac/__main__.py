"""``python -m wac``: the wac command line."""

from wac.cli.app import main

main()
