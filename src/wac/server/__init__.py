"""``wac server``: approval pages reached by link, and the runs of the workspace in a browser.

Starlette, uvicorn and Jinja2 are imported only here (and only by ``wac server``): ``import wac``
and every other command never load them."""
