"""Parsing the accounting system's CSV: line-numbered errors, the rest kept, stable fingerprints."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from mapping.sales_history import parse_amount, parse_currency, parse_date, parse_kind, parse_sales_history

HEADER = "date,customer,amount,currency,kind,product,external_id\n"


def test_a_good_file_parses_every_row() -> None:
    parsed = parse_sales_history(
        HEADER
        + '2026-01-05,jane@acme.com,"1,234.50",EUR,order,Widgets,INV-1\n'
        + "05.02.2026,acme.com,100,eur,Return,,\n"
        + '"Mar 3, 2026",Acme Inc,50.5,USD,referral credit,,\n'
    )
    assert parsed.errors == []
    first, second, third = parsed.rows
    assert (
        first.line,
        first.occurred_on,
        first.amount,
        first.currency,
        first.kind,
        first.product,
        first.external_id,
    ) == (2, date(2026, 1, 5), Decimal("1234.50"), "EUR", "order", "Widgets", "INV-1")
    assert (second.occurred_on, second.kind, second.currency, second.product) == (
        date(2026, 2, 5),
        "return",
        "EUR",
        None,
    )
    assert (third.occurred_on, third.kind, third.amount) == (date(2026, 3, 3), "referral_credit", Decimal("50.50"))


def test_bad_rows_get_their_line_numbers_and_the_rest_is_kept() -> None:
    parsed = parse_sales_history(
        HEADER
        + "2026-01-05,a@x.com,10,EUR,order,,\n"
        + "01/02/2026,a@x.com,10,EUR,order,,\n"  # ambiguous date
        + "2026-02-30,a@x.com,10,EUR,order,,\n"  # no such day
        + "2026-01-05,a@x.com,$10,USD,order,,\n"  # symbol in the amount
        + "2026-01-05,a@x.com,10,€,order,,\n"  # symbol as the currency
        + "2026-01-05,a@x.com,ten,EUR,order,,\n"  # not a number
        + "2026-01-05,a@x.com,10,EUR,gift,,\n"  # unknown kind
        + "\n"
        + "2026-01-06,b@x.com,20,EUR,order,,\n"
        + "2026-01-06,b@x.com,20\n"  # too few fields
    )
    assert [r.line for r in parsed.rows] == [2, 10]
    by_line = {e.line: e for e in parsed.errors}
    assert sorted(by_line) == [3, 4, 5, 6, 7, 8, 11]
    assert by_line[3].column == "date" and "ambiguous" in by_line[3].message
    assert by_line[4].column == "date"
    assert by_line[5].column == "amount" and "currency symbol" in by_line[5].message
    assert by_line[6].column == "currency" and "ISO 4217" in by_line[6].message
    assert by_line[7].column == "amount"
    assert by_line[8].column == "kind"
    assert "expected 7 fields" in by_line[11].message
    assert str(by_line[5]).startswith("line 5, column amount: ")


def test_a_row_with_several_problems_reports_each() -> None:
    parsed = parse_sales_history(HEADER + "someday,,-5,dollars,gift,,\n")
    assert parsed.rows == []
    assert {e.column for e in parsed.errors} == {"date", "customer", "amount", "currency", "kind"}
    assert {e.line for e in parsed.errors} == {2}


def test_wrong_columns_are_one_error_naming_them() -> None:
    parsed = parse_sales_history("Date,Client,Amount,Currency,Type\n2026-01-01,x,1,EUR,order\n")
    assert parsed.rows == []
    (error,) = parsed.errors
    assert error.line == 1
    assert "missing columns customer, kind" in error.message
    assert "unknown columns 'Client', 'Type'" in error.message


def test_header_names_are_forgiving_and_optional_columns_may_be_left_out() -> None:
    parsed = parse_sales_history(
        "\ufeffDate;Customer;Amount;Currency;Kind;External-ID\n2026-01-01;x;1.234,50;EUR;order;7\n"
    )
    assert parsed.errors == []
    assert parsed.rows[0].amount == Decimal("1234.50") and parsed.rows[0].external_id == "7"


def test_an_empty_file_is_an_error() -> None:
    assert parse_sales_history("").errors[0].line == 1


def test_a_quoted_field_over_two_lines_keeps_the_line_numbers_right() -> None:
    parsed = parse_sales_history(HEADER + '2026-01-01,x,1,EUR,order,"two\nlines",\n2026-01-01,y,bad,EUR,order,,\n')
    assert [r.line for r in parsed.rows] == [2]
    assert [e.line for e in parsed.errors] == [4]


def test_fingerprints_are_stable_and_identical_rows_stay_distinct() -> None:
    text = HEADER + "2026-01-05,a@x.com,10,EUR,order,W,\n" * 2 + "2026-01-05,A@X.com,10.00,eur,ORDER, w ,\n"
    once, again = parse_sales_history(text), parse_sales_history(text)
    fps = [r.fingerprint for r in once.rows]
    assert fps == [r.fingerprint for r in again.rows]
    # Two identical orders on one day are two rows; the third is the same order spelt differently,
    # i.e. the third occurrence of it.
    assert len(set(fps)) == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-05", date(2026, 3, 5)),
        ("2026-03-05T23:10:00+02:00", date(2026, 3, 5)),
        ("20260305", date(2026, 3, 5)),
        ("5.3.2026", date(2026, 3, 5)),
        ("5 March 2026", date(2026, 3, 5)),
        ("Mar 5, 2026", date(2026, 3, 5)),
        ("05-Mar-2026", date(2026, 3, 5)),
        ("2026/3/5", date(2026, 3, 5)),
    ],
)
def test_dates(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["03/05/2026", "3/5/26", "2026-13-01", "yesterday", "5 Smarch 2026", ""])
def test_bad_dates(text: str) -> None:
    with pytest.raises(ValueError):
        parse_date(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,234.50", "1234.50"),
        ("1.234,50", "1234.50"),
        ("1 234,50", "1234.50"),
        ("1'234.50", "1234.50"),
        ("1,234,567", "1234567.00"),
        ("12,5", "12.50"),
        ("0", "0.00"),
        ("+7.1", "7.10"),
        ("1\u00a0000", "1000.00"),
    ],
)
def test_amounts(text: str, expected: str) -> None:
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["1,234", "12.345", "$5", "5 €", "£5", "-5", "(5.00)", "1.2.3", "5 EUR", "", "1,23,4"])
def test_bad_amounts(text: str) -> None:
    with pytest.raises(ValueError):
        parse_amount(text)


def test_currency_and_kind() -> None:
    assert parse_currency(" usd ") == "USD"
    for bad in ("$", "€", "US", "EURO"):
        with pytest.raises(ValueError):
            parse_currency(bad)
    assert [
        parse_kind(k) for k in ("Order", "orders", "RETURN", "referral credit", "referral_credit", "Referral-Credit")
    ] == ["order", "order", "return"] + ["referral_credit"] * 3
    with pytest.raises(ValueError, match="order, return or referral credit"):
        parse_kind("refund")


def test_a_field_over_the_parsers_limit_is_reported_and_the_next_lines_still_import() -> None:
    huge = "x" * 200_000  # over csv's default field size limit (131,072 characters)
    parsed = parse_sales_history(
        HEADER
        + "2026-01-05,a@x.com,10,EUR,order,,\n"
        + f"2026-01-05,a@x.com,10,EUR,order,{huge},\n"
        + "2026-01-06,b@x.com,20,EUR,order,,\n"
        + f'2026-01-07,c@x.com,30,EUR,order,"{huge}",\n'
        + "2026-01-08,d@x.com,40,EUR,order,,\n"
    )
    assert [r.line for r in parsed.rows] == [2, 4, 6]
    assert [(e.line, "field larger than field limit" in e.message) for e in parsed.errors] == [(3, True), (5, True)]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("9999-12-31", "in the future"),
        ("2026-06-03", "in the future"),
        ("0001-01-01", "before 1900-01-01"),
        ("1899-12-31", "before 1900-01-01"),
    ],
)
def test_a_date_far_in_the_future_or_the_distant_past_is_refused_on_its_line(text: str, reason: str) -> None:
    parsed = parse_sales_history(
        HEADER + f"{text},a@x.com,10,EUR,order,,\n" + "2026-06-02,b@x.com,20,EUR,order,,\n", today=date(2026, 6, 1)
    )
    assert [r.line for r in parsed.rows] == [3]  # tomorrow is fine (the accounting system's time zone)
    (error,) = parsed.errors
    assert (error.line, error.column) == (2, "date") and reason in error.message


def test_placeholder_dates_are_refused_whatever_the_day_of_the_import() -> None:
    parsed = parse_sales_history(
        HEADER
        + "9999-12-31,a@x.com,10,EUR,order,,\n"
        + "0001-01-01,a@x.com,10,EUR,order,,\n"
        + "2026-01-05,b@x.com,1,EUR,order,,\n"
    )
    assert [r.line for r in parsed.rows] == [4]
    assert [(e.line, e.column) for e in parsed.errors] == [(2, "date"), (3, "date")]


def test_a_referral_credit_names_the_customer_referred_in_the_referred_column() -> None:
    parsed = parse_sales_history(
        "date,customer,amount,currency,kind,Referred Customer\n"
        "2026-03-05,northwind.com,250,EUR,referral-credit,Contoso Ltd\n"
        "2026-03-06,contoso.com,900,EUR,order,\n",
        today=date(2026, 6, 30),
    )
    assert not parsed.errors
    credit, order = parsed.rows
    assert (credit.kind, credit.referred) == ("referral_credit", "Contoso Ltd") and order.referred is None


def test_a_referred_customer_on_an_order_or_the_referrer_itself_is_refused_on_its_line() -> None:
    parsed = parse_sales_history(
        "date,customer,amount,currency,kind,referred\n"
        "2026-03-05,Northwind,250,EUR,order,Contoso\n"
        "2026-03-05,Northwind,250,EUR,referral credit,northwind\n"
        "2026-03-05,Northwind,250,EUR,referral credit,Contoso\n",
        today=date(2026, 6, 30),
    )
    assert [r.line for r in parsed.rows] == [4]
    first, second = parsed.errors
    assert (first.line, first.column) == (2, "referred") and "only a referral credit names" in first.message
    assert (second.line, second.column) == (3, "referred") and "a referral to oneself" in second.message


def test_a_file_without_the_referred_column_keeps_its_fingerprints() -> None:
    text = "date,customer,amount,currency,kind\n2026-03-05,Northwind,250,EUR,order\n"
    (row,) = parse_sales_history(text, today=date(2026, 6, 30)).rows
    with_empty = parse_sales_history(
        "date,customer,amount,currency,kind,referred\n2026-03-05,Northwind,250,EUR,order,\n", today=date(2026, 6, 30)
    ).rows[0]
    assert row.fingerprint == with_empty.fingerprint
