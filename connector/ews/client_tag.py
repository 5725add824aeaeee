"""Name this process in the User-Agent of every EWS request: ``relsync/<worker> exchangelib/...``.

Exchange's IIS logs (and the fake's overlap recorder) then tell which daemon sent a request, which
is what an admin needs when several workers share the mailboxes. exchangelib reads the class
attribute when it opens a session, so call this before the first request.
"""

from __future__ import annotations

import exchangelib
from exchangelib.protocol import BaseProtocol

_BASE = f"exchangelib/{exchangelib.__version__}"


def tag_requests(worker: str) -> str:
    """Put ``worker`` (e.g. ``host:pid``) into the User-Agent of this process's EWS sessions."""
    clean = "".join(c if c.isprintable() and c not in "()" else "_" for c in worker)[:100]
    agent = f"relsync ({clean}) {_BASE}"
    BaseProtocol.USERAGENT = agent
    return agent
