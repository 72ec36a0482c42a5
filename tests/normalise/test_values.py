"""The value parser: a table of printed cells (spec §8.3, §9) and properties that hold for any input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tasks.normalise.values import parse_value

CASES = [
    # raw, kind, value, flags
    ("", "count", None, ("blank",)),
    ("   ", "count", None, ("blank",)),
    ("\u00a0", "count", None, ("blank",)),
    ("\u3000", "count", None, ("blank",)),
    ("-", "count", 0, ("dash",)),
    ("—", "count", 0, ("dash",)),
    ("——", "count", 0, ("dash",)),
    ("–", "count", 0, ("dash",)),
    ("/", "count", 0, ("dash",)),
    ("／", "count", 0, ("dash",)),
    ("无", "count", 0, ("dash",)),
    ("-", "money_unknown_unit", 0.0, ("dash",)),
    ("0", "count", 0, ()),
    ("13", "count", 13, ()),
    ("1\u00a0", "count", 1, ()),
    ("\u00a01", "count", 1, ()),
    ("１２３", "count", 123, ()),
    ("1,234", "count", 1234, ()),
    ("1，234", "count", 1234, ()),
    ("947个", "count", 947, ("unit_stripped",)),
    ("13件", "count", 13, ("unit_stripped",)),
    ("5项", "count", 5, ("unit_stripped",)),
    ("12条", "count", 12, ("unit_stripped",)),
    ("-825", "signed_count", -825, ("signed",)),
    ("+1108", "signed_count", 1108, ("signed",)),
    ("＋5", "signed_count", 5, ("signed",)),
    ("－3", "signed_count", -3, ("signed",)),
    ("-3", "count", -3, ("signed",)),  # kept, so that check S6 names it
    ("3.5", "count", 3.5, ("not_integer",)),
    ("62423198.43元", "money_unknown_unit", 6242.319843, ("unit=元",)),
    ("134.3235万元", "money_unknown_unit", 134.3235, ("unit=万元",)),
    ("1.19亿元", "money_unknown_unit", 11900.0, ("unit=亿元",)),
    ("251000元", "money_unknown_unit", 25.1, ("unit=元",)),
    ("251000", "money_unknown_unit", None, ("unit_unknown",)),
    ("62423198.43", "money_unknown_unit", None, ("unit_unknown", "unit_hint=元")),
    ("0", "money_unknown_unit", 0.0, ()),
    ("12.5", "money_wan", 12.5, ()),
    ("125000元", "money_wan", 12.5, ("unit=元",)),
    ("3138.14万元", "count", None, ("semantic_misuse",)),
    ("+1108.67万元", "signed_count", None, ("signed", "semantic_misuse")),
    ("见附件", "count", None, ("unparsed",)),
    ("12%", "count", None, ("unparsed",)),
]


@pytest.mark.parametrize(("raw", "kind", "value", "flags"), CASES)
def test_printed_cells(raw: str, kind: str, value: object, flags: tuple[str, ...]) -> None:
    parsed = parse_value(raw, kind)  # type: ignore[arg-type]
    assert parsed.value == value
    assert type(parsed.value) is type(value)
    assert parsed.flags == flags


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(["", " ", "\u00a0", "\u3000"]),
       st.sampled_from(["", "件", "个", "项", "条"]))
def test_any_count_round_trips(n: int, pad: str, suffix: str) -> None:
    parsed = parse_value(f"{pad}{n}{suffix}{pad}", "count")
    assert parsed.value == n
    assert ("unit_stripped" in parsed.flags) == bool(suffix)


@given(st.integers(min_value=0, max_value=10**9))
def test_thousands_separators_and_full_width_digits(n: int) -> None:
    full_width = str(n).translate({ord(d): 0xFF10 + int(d) for d in "0123456789"})
    assert parse_value(f"{n:,}", "count").value == n
    assert parse_value(full_width, "count").value == n


@given(st.integers(min_value=-10**9, max_value=10**9))
def test_signed_change_keeps_its_sign(n: int) -> None:
    text = f"+{n}" if n > 0 else str(n)
    parsed = parse_value(text, "signed_count")
    assert parsed.value == n
    assert ("signed" in parsed.flags) == (text[0] in "+-")


@given(st.decimals(min_value=0, max_value=10**8, places=2, allow_nan=False))
def test_money_units_convert_to_wan(amount) -> None:  # type: ignore[no-untyped-def]
    yuan = parse_value(f"{amount}元", "money_unknown_unit").value
    wan = parse_value(f"{amount}万元", "money_unknown_unit").value
    yi = parse_value(f"{amount}亿元", "money_unknown_unit").value
    assert yuan == pytest.approx(float(amount) / 10_000)
    assert wan == pytest.approx(float(amount))
    assert yi == pytest.approx(float(amount) * 10_000)


@given(st.text(max_size=12))
def test_never_raises_and_blank_means_null(text: str) -> None:
    for kind in ("count", "signed_count", "money_wan", "money_unknown_unit"):
        parsed = parse_value(text, kind)  # type: ignore[arg-type]
        if "blank" in parsed.flags:
            assert parsed.value is None
        if parsed.value is None:
            assert parsed.flags, "a null value always says why"
