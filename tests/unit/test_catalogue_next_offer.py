"""The product catalogue and what to offer next (pure, no I/O)."""

from __future__ import annotations

from mapping.catalogue import normalise_product, parse_catalogue
from mapping.next_offer import OfferSettings, Profile, suggest_all


def test_widget_pro_2_spelled_three_ways_is_one_product() -> None:
    assert {normalise_product(n) for n in ("Widget Pro 2", "WIDGET-PRO-2", "Widget Pro II", "widget pro2")} == {
        "widget pro 2"
    }
    assert normalise_product("Model X") == "model x"  # a single letter is not a numeral


def test_a_toml_catalogue_maps_aliases_and_unknown_names_keep_their_spelling() -> None:
    cat, problems = parse_catalogue('[products]\n"Widget Pro 2" = ["WP2", "Widget Professional 2"]\n', "cat.toml")
    assert problems == []
    assert cat.resolve("widget-pro-ii") == "Widget Pro 2" and cat.resolve("wp 2") == "Widget Pro 2"
    assert cat.resolve(" GADGET-Max-II ") == "gadget max 2" and not cat.known("Gadget")


def test_unknown_products_spelled_differently_count_as_one_named_by_the_first_spelling() -> None:
    cat, _ = parse_catalogue('[products]\n"Widget Pro 2" = []\n', "cat.toml")
    assert cat.resolve_many(["Gadget Max 3", "GADGET-MAX-III", "widget pro ii", ""]) == [
        "Gadget Max 3",
        "Gadget Max 3",
        "Widget Pro 2",
        "",
    ]


def test_a_duplicate_alias_is_named_with_its_line_and_the_rest_proceeds() -> None:
    text = "product,alias\nWidget Pro 2,WP2\nWidget Lite,WP-2\nWidget Lite,WL\n"
    cat, [p] = parse_catalogue(text, "catalogue.csv")
    assert p.line == 3
    assert p.message == (
        "catalogue.csv line 3: alias 'WP-2' of 'Widget Lite' already names 'Widget Pro 2'; "
        "it stays with 'Widget Pro 2': remove one of the two"
    )
    assert cat.resolve("WL") == "Widget Lite" and cat.resolve("wp2") == "Widget Pro 2"


def test_a_broken_catalogue_file_is_one_message_naming_the_file() -> None:
    _, [p] = parse_catalogue('[products\n"x" = 1', "cat.toml")
    assert p.message.startswith("cat.toml: ") and p.message.endswith("fix the TOML")
    _, [q] = parse_catalogue("name,alias\n", "cat.csv")
    assert "'product' column" in q.message


def test_next_offer_suggests_what_similar_customers_buy_that_this_one_has_not() -> None:
    profiles = [Profile(i, "retail", "large", "Average") for i in range(1, 8)] + [Profile(99, "mining", None, None)]
    purchases = [(i, "Widget") for i in range(1, 8)] + [(i, "Gadget") for i in range(2, 6)] + [(1, "Gizmo")]
    out = suggest_all(profiles, purchases, OfferSettings(top=2, min_peers=5, min_support=0.2))
    [s] = out[1]
    assert (s.product, s.buyers, s.peers, s.segment) == ("Gadget", 4, 6, "industry=retail, size=large")
    assert s.line() == "Gadget: bought by 4 of 6 similar customers (67 %; industry=retail, size=large)"
    assert [x.product for x in out[99]] == ["Widget", "Gadget"]  # too few peers: everyone
    assert out[99][0].segment == "everyone"
    assert 2 not in out or "Gadget" not in [x.product for x in out[2]]
