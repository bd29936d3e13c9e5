"""Alembic's entry for the link store's migrations: run by server.links.LinkStore.migrate on a connection it
opened and locked (config.attributes["connection"]), inside that connection's transaction.

New schema version: ``alembic -x url=sqlite:///links.sqlite3 revision -m "what changes"`` from this folder is not
needed; copy versions/0001_links.py, set its down_revision to the current head, and test it on both dialects.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("the link store's migrations run through server.links.LinkStore.migrate, on its connection")
context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
