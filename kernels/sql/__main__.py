"""``python -m kernels.sql -f <connection file>``: start the SQL preview kernel."""

from __future__ import annotations

from ipykernel.kernelapp import IPKernelApp

from .kernel import SqlKernel

if __name__ == "__main__":
    # No OutStream in place of sys.stdout and sys.stderr: the kernel prints nothing a client
    # should see (its events are display_data messages), and the stand-in costs every
    # execute a flush handshake with the IOPub thread (about a millisecond) plus a thread
    # watching the file descriptors. What a driver might still write goes to the process's
    # own streams, the pod's log, with the kernel's log lines; DuckDB's one writer, the
    # progress bar, is off (see kernels.warehouses.duckdb).
    IPKernelApp.launch_instance(kernel_class=SqlKernel, outstream_class=None)
