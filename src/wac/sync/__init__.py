"""Repo ⇄ workspace: reading local scripts into deployable versions, and the sync push/pull plans."""
