"""The compiled blocklist matches exactly as fnmatch pattern by pattern does (it replaced that loop)."""

from __future__ import annotations

import fnmatch

from hypothesis import given
from hypothesis import strategies as st

from mapping.hygiene import email_domain
from mapping.policy import DEFAULT_BLOCKLIST, is_blocklisted


def reference(address: str, patterns: tuple[str, ...]) -> bool:
    address = address.lower()
    domain = email_domain(address) or ""
    for raw in patterns:
        pattern = raw.strip().lower()
        if not pattern:
            continue
        if "@" in pattern:
            if fnmatch.fnmatchcase(address, pattern):
                return True
        elif domain and (fnmatch.fnmatchcase(domain, pattern) or fnmatch.fnmatchcase(domain, "*." + pattern)):
            return True
    return False


PARTS = st.sampled_from(["noreply", "no-reply", "news", "Mail", "bounce-42", "a.b", "x", "newsletter", "*", "?"])
HOSTS = st.sampled_from(["example.com", "mail.example.com", "newsletter.example", "sub.news.example", "EXAMPLE.org"])
ADDRESSES = st.builds(lambda local, host: f"{local}@{host}", PARTS.filter(lambda p: p not in "*?"), HOSTS)
PATTERNS = st.one_of(
    st.builds(lambda local, host: f"{local}@{host}", PARTS, st.one_of(HOSTS, st.just("*"))),
    HOSTS,
    st.just(""),
    st.just("  News@*  "),
    st.just("[ab]*@example.com"),
)


@given(ADDRESSES, st.lists(PATTERNS, max_size=6).map(tuple))
def test_compiled_blocklist_agrees_with_fnmatch(address: str, patterns: tuple[str, ...]) -> None:
    assert is_blocklisted(address, patterns) == reference(address, patterns)


def test_default_blocklist_examples() -> None:
    assert is_blocklisted("NoReply@shop.example", DEFAULT_BLOCKLIST)
    assert is_blocklisted("news@mail.newsletter.example", ("newsletter.example",))
    assert not is_blocklisted("dana@fabrikam.example", DEFAULT_BLOCKLIST)
    assert is_blocklisted("dana@fabrikam.example", ["fabrikam.example"])  # any iterable of patterns
