"""Git for the session pod, through pygit2 (libgit2): no ``git`` subprocess, no hooks.

:mod:`.methods` holds the ``git/*`` RPC methods; the other modules are plain functions on
a :class:`pygit2.Repository` so they can be used and tested without a server.
"""
