"""The network layer: trio, httpx and what pyrun builds on them.

Every module here imports the package first, so `pyrun.net.trio_import` is in place before any
of them imports trio (directly or through httpx).
"""

from pyrun.net import trio_import

trio_import.install()
