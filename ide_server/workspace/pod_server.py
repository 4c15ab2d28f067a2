"""The session pod's server, started by :mod:`.launch`.

Reads the pod's settings from the environment (see :mod:`.config`), makes sure the volume
holds the project's checkout, then runs a Jupyter Server with the IDE extension and the
collaboration extension, listening on a Unix socket (``sock``) or a TCP port (``port``, on
Kubernetes). Jupyter reads the token from ``JUPYTER_TOKEN`` itself.

Jupyter's configuration and data paths, the kernelspecs and the working directory are
pinned to the pod's private directory first (see :mod:`.private_dirs`): nothing in the
checkout can change what the pod runs.
"""

from __future__ import annotations

import gc
import logging
import os
import secrets
import shutil
import sys
import tempfile

from traitlets.config import Config

from kernels.sql.kernelspec import KERNEL_NAME, write_kernelspec

from ..durable import recover_interrupted_writes
from .checkout import prepare_checkout
from .config import PodConfig
from .contents import VolumeContentsManager
from .private_dirs import (
    PodKernelSpecManager,
    PrivateDirError,
    PrivateDirs,
    pin_environment,
    prepare_volume_state,
    private_dirs,
)


def server_config(pod: PodConfig, private: PrivateDirs) -> Config:
    c = Config()
    if pod.sock:
        c.ServerApp.sock = pod.sock
        c.ServerApp.sock_mode = "0600"
    else:
        c.ServerApp.ip = pod.ip
        c.ServerApp.port = pod.port
        c.ServerApp.port_retries = 0
    c.ServerApp.base_url = pod.base_url
    c.ServerApp.root_dir = str(pod.root)
    c.ServerApp.open_browser = False
    c.ServerApp.terminals_enabled = False
    c.ServerApp.contents_manager_class = VolumeContentsManager
    # Kernel channels on Unix sockets in the pod's private /tmp, not on loopback TCP ports
    # that any process of the machine could connect to (and subscribe to IOPub). A name of
    # its own, should a /tmp be shared after all (an unconfined pod).
    c.KernelManager.transport = "ipc"
    c.KernelManager.ip = os.path.join(tempfile.gettempdir(), f"ide-{secrets.token_hex(6)}")
    c.ServerApp.jpserver_extensions = {
        "ide_server.workspace": True,
        # Our subclass of jupyter-server-ydoc (durable rooms), instead of the original.
        "ide_server.workspace.collab": True,
        "jupyter_server_ydoc": False,
        "jupyter_server_fileid": True,
        "jupyter_server_terminals": False,
    }
    # The pod runs as whatever user the backend chose (a non-root UID on Kubernetes).
    c.ServerApp.allow_root = True
    # Only the gateway reaches the pod, with the token; its Host header names the pod.
    c.ServerApp.allow_remote_access = True
    c.ServerApp.tornado_settings = {"websocket_max_message_size": pod.max_message_bytes}
    runtime = pod.runtime_dir
    c.YDocExtension.document_save_delay = pod.save_delay
    c.YDocExtension.session_store_path = str(runtime / "collaboration_sessions.json")
    c.SQLiteYStore.db_path = str(runtime / "ystore.db")
    c.BaseFileIdManager.db_path = str(runtime / "file_id.db")
    _pin_kernels(c, private)
    return c


def _pin_kernels(c: Config, private: PrivateDirs) -> None:
    """Kernels come from the pod's private directory only, never from a search path."""
    c.ServerApp.kernel_spec_manager_class = PodKernelSpecManager
    c.PodKernelSpecManager.kernel_dirs = [str(write_kernelspec(private.kernels))]
    c.PodKernelSpecManager.ensure_native_kernel = False
    c.PodKernelSpecManager.allowed_kernelspecs = {KERNEL_NAME}


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        pod = PodConfig.from_env()
    except ValueError as exc:
        sys.exit(f"the pod's environment is not valid: {exc}")
    if not pod.token:
        sys.exit(f"{PodConfig.variable('token')} must be set: the pod never runs without a token")
    try:
        private = private_dirs(pod.root, os.environ)
    except PrivateDirError as exc:
        sys.exit(str(exc))
    try:
        run(pod, private)
    finally:
        if private.owned:  # a pod started by hand: nothing else would remove it
            shutil.rmtree(private.root, ignore_errors=True)


def run(pod: PodConfig, private: PrivateDirs) -> None:
    pin_environment(private, os.environ)
    # Kernels and commands start in the current directory: make it the private one.
    os.chdir(private.root)
    try:
        prepare_checkout(pod)
    except Exception as exc:  # one clear line: the backend shows it as the failure reason
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        print(f"could not prepare the project checkout: {message}", file=sys.stderr, flush=True)
        sys.exit(3)
    prepare_volume_state(pod.runtime_dir)
    for leftover in recover_interrupted_writes(pod.root):  # a crash cut these writes short
        logging.getLogger(__name__).info("cleaned up after an interrupted write: %s", leftover)
    serve(server_config(pod, private))


def serve(config: Config) -> None:
    """ServerApp.launch_instance, with the collector switched back on once the server is
    initialised: what the start made is moved out of its reach (``gc.freeze``), since it
    lives as long as the pod (launch.py switched it off)."""
    from jupyter_core.utils import ensure_event_loop
    from jupyter_server.serverapp import ServerApp

    loop = ensure_event_loop()
    app = ServerApp.instance(config=config)
    app.initialize(argv=[])
    gc.freeze()
    gc.enable()
    app.start()
    loop.close()
