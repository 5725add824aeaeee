"""After sign-in the console only follows a path on its own site (no open redirect)."""

from __future__ import annotations

import pytest

from scheduler.web.security import PAGE_ROLES, User, safe_next


@pytest.mark.parametrize(
    "target",
    [None, "", "https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "relationships"],
)
def test_anything_but_a_local_path_goes_to_the_start_page(target: str | None) -> None:
    assert safe_next(target) == "/"


def test_a_local_path_with_its_query_is_kept() -> None:
    assert safe_next("/followups?state=overdue") == "/followups?state=overdue"


def test_staff_navigation_holds_only_their_pages() -> None:
    staff = User("eve@contoso.example", "staff")
    assert [href for href, _ in staff.nav(frozenset(PAGE_ROLES))] == ["/relationships", "/followups"]
    admin = User("ada@contoso.example", "admin")
    assert len(admin.nav(frozenset(PAGE_ROLES))) == len(PAGE_ROLES)


def test_overrides_are_an_admin_action_outside_the_navigation() -> None:
    assert User("ada@contoso.example", "admin").may("overrides")
    assert not User("max@contoso.example", "manager").may("overrides")
    assert not User("eve@contoso.example", "staff").may("overrides")
    assert "overrides" not in PAGE_ROLES
