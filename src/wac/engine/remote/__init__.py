"""Workspaces on a remote server. :mod:`wac.engine.remote.windmill` talks to a Windmill server over its
HTTP API (``shared/spec/windmill-api/contract.md``).

Only this package imports httpx, and only when a remote workspace is opened: ``import wac`` stays
light.
"""
