"""Entry point of a session pod: ``python -P -m ide_server.workspace.launch``.

Backends start it with ``-P`` so that the working directory they chose is never put
first on ``sys.path``: if it were the project folder, a committed ``ide_server/`` folder
would be imported instead of the installed one.

This module imports nothing heavy: it first defers the slowest of jsonschema's optional
format libraries (see :mod:`.deferred_formats`), then imports and runs the server
(:mod:`.pod_server`), which brings jupyter_server.

The cyclic garbage collector is off until the server is initialised (see
:func:`.pod_server.main`): the start creates hundreds of thousands of objects that all
live as long as the pod, and collecting while they are made only walks them again and
again (about a tenth of a start).
"""

from __future__ import annotations

import gc

from .deferred_formats import defer


def main() -> None:
    gc.disable()
    defer()
    from .pod_server import main as serve

    serve()


if __name__ == "__main__":
    main()
