"""``python -m kernels.sql -f <connection file>``: start the SQL preview kernel."""

from __future__ import annotations

from ipykernel.kernelapp import IPKernelApp

from .kernel import SqlKernel

if __name__ == "__main__":
    IPKernelApp.launch_instance(kernel_class=SqlKernel)
