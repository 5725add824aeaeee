"""The plain-address fast path of e-mail normalisation answers exactly as email-validator does."""

from __future__ import annotations

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from hypothesis import example, given, settings
from hypothesis import strategies as st

from mapping.hygiene import normalise_email, plain_address

_LOCAL = "abcXYZ019_+-.!#"
_DOMAIN = "abcXYZ019-."


def _validator_says(bare: str) -> str | None:
    """The address email-validator normalises ``bare`` to (lower-cased as relsync does), or None."""
    try:
        return validate_email(bare, check_deliverability=False).normalized.lower()
    except (EmailNotValidError, ValueError, UnicodeError):
        return None


addresses = st.builds(
    lambda local, domain, tld: f"{local}@{domain}{tld}",
    st.text(_LOCAL, min_size=0, max_size=70),
    st.text(_DOMAIN, min_size=0, max_size=70),
    st.sampled_from(["", ".com", ".DE", ".co.uk", ".example", ".test", ".local", ".x", ".c0m", ".arpa", ".museum"]),
)


@settings(max_examples=3000)
@given(addresses)
@example("jane.doe@example.com")
@example("Jane.Doe+tag@Mail.Example.COM")
@example("a@b.local")
@example("a@xn--bcher-kva.example")
@example("a@ab--cd.example")
@example("a@-ab.example")
@example("a..b@x.example")
@example(f"{'a' * 65}@x.example")
@example(f"a@{'b' * 64}.example")
@example(f"a@{'b.' * 126}example")
def test_the_fast_path_accepts_only_what_the_validator_accepts_and_normalises_alike(bare: str) -> None:
    plain = plain_address(bare)
    if plain is not None:
        assert plain == bare.lower() and _validator_says(bare) == plain


@given(addresses)
def test_normalising_gives_the_validators_answer_for_every_address(bare: str) -> None:
    record = normalise_email(bare)
    said = _validator_says(bare)
    assert record is not None
    if said is not None and said.isascii():
        assert record.is_valid and record.address == said
    elif said is None:
        assert not record.is_valid


def test_every_special_use_domain_goes_to_the_validator() -> None:
    for domain in SPECIAL_USE_DOMAIN_NAMES:
        assert plain_address(f"someone@{domain}") is None and plain_address(f"someone@mail.{domain}") is None


def test_common_addresses_take_the_fast_path() -> None:
    for bare in ("jane.doe@example.com", "Jane.Doe+tag@Mail.Example.COM", "j_d-1@northwind-traders.example"):
        upper, lower = normalise_email(bare.upper()), normalise_email(bare)
        assert plain_address(bare) == bare.lower() and upper is not None and lower is not None
        assert upper.address == lower.address == bare.lower() and upper.is_valid
