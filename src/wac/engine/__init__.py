"""The embedded engine: the Store (``wac.engine.store``), workers and the round runner.

Importing this package is cheap; submodules are imported where they are used.
"""
