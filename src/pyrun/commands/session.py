"""What every step of one command shares, as one value instead of a parameter each."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pyrun.commands.common import make_finder, open_cache
from pyrun.console import Console
from pyrun.core.records import Record
from pyrun.local.cache import Cache
from pyrun.local.pyfind import Finder
from pyrun.options import Settled


class Session(Record):
    """The settled configuration of a run, its cache, its console and its interpreter finder.

    The run's one HTTP client is not here: `pyrun.net.client.run_client` shares it across the
    network steps of the process's one trio run, and only a step that needs the network
    imports it.
    """

    settled: Settled
    cache: Cache
    console: Console
    finder: Finder

    def resettled(self, settled: Settled) -> Session:
        """The same run under other settings (a script's table over the files): the finder
        follows, since the table may change the Python preference or downloads."""
        return self._replace(settled=settled, finder=make_finder(settled, self.cache, self.console))


@contextmanager
def open_session(settled: Settled, console: Console) -> Iterator[Session]:
    """The session of one command: its cache is open (a `--no-cache` one removed) until the
    block ends."""
    with open_cache(settled) as cache:
        yield Session(settled, cache, console, make_finder(settled, cache, console))
