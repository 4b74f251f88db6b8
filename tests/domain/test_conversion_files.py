"""Conversion files as the business writes them: good rows, every kind of bad line with its
line number, rows repeated within the file, a byte-order mark, semicolons; phone numbers;
which contact messages are a member's own number; purchase points."""

from __future__ import annotations

from datetime import date

import pytest

from hearth.domain.conversion_files import (
    ConversionLine,
    Duplicate,
    FileProblem,
    Malformed,
    MemberKey,
    MemberKeyKind,
    RowProblem,
    UnreadableConversionFile,
    conversion_key,
    parse_amount,
    parse_conversions,
)
from hearth.domain.conversions import ConversionKind
from hearth.domain.phones import ContactVerdict, contact_verdict, normalise_phone
from hearth.domain.points import PointsRules, purchase_points, rules_from_settings

TODAY = date(2026, 3, 2)


def parsed(text: str, encoding: str = "utf-8"):  # type: ignore[no-untyped-def]
    return parse_conversions(text.encode(encoding), today=TODAY)


# -- good files


def test_a_good_file_gives_one_row_per_line_with_its_key_and_amount_in_cents() -> None:
    found = parsed(
        "telegram_id,phone,date,kind,amount,ref\n"
        "101,,2026-02-10,service,450.5,WO-1\n"
        ",+86 138-1234-5678,2026-02-11,Purchase,189000,\n"
        "102,,2026-02-12,trade-in,,\n"
    )

    assert found.read == 3
    assert not found.malformed
    assert not found.duplicates
    first, second, third = found.rows
    assert first == ConversionLine(
        2,
        MemberKey(MemberKeyKind.TELEGRAM_ID, "101"),
        ConversionKind.SERVICE,
        date(2026, 2, 10),
        45050,
        "WO-1",
        "ref:WO-1",
    )
    assert second.member == MemberKey(MemberKeyKind.PHONE, "+8613812345678")
    assert (second.kind, second.amount_minor, second.line) == (ConversionKind.PURCHASE, 18900000, 3)
    assert second.key.startswith("row:")
    assert len(second.key) <= 64
    assert (third.kind, third.amount_minor) == (ConversionKind.TRADE_IN, 0)


def test_a_byte_order_mark_semicolons_and_a_member_column_are_read_the_same() -> None:
    found = parsed(
        "Member;Date;Kind;Amount\n"
        "101;2026-02-10;SERVICE;12.30\n"
        "+8613812345678;2026-02-10;trade in;1\n",
        encoding="utf-8-sig",
    )

    assert not found.malformed
    assert [row.member for row in found.rows] == [
        MemberKey(MemberKeyKind.TELEGRAM_ID, "101"),
        MemberKey(MemberKeyKind.PHONE, "+8613812345678"),
    ]
    assert [row.amount_minor for row in found.rows] == [1230, 100]


def test_blank_lines_and_other_columns_are_ignored_and_crlf_lines_keep_their_numbers() -> None:
    found = parsed(
        "telegram_id,date,kind,branch\r\n\r\n101,2026-02-10,service,Pudong\r\n,,,\r\n"
        "x,2026-02-10,service,\r\n"
    )

    assert found.read == 2
    assert [row.line for row in found.rows] == [3]
    assert found.malformed == [Malformed(5, RowProblem.BAD_TELEGRAM_ID, "x")]


def test_the_same_row_twice_is_counted_once_and_reported_with_the_first_line() -> None:
    found = parsed(
        "telegram_id,date,kind,amount,ref\n"
        "101,2026-02-10,service,10,\n"
        "102,2026-02-10,service,10,A1\n"
        "101,2026-02-10,service,10.00,\n"
        "102,2026-02-10,service,10,A1\n"
    )

    assert len(found.rows) == 2
    assert found.duplicates == [Duplicate(4, 2), Duplicate(5, 3)]
    assert not found.malformed


def test_a_reference_used_again_for_another_row_is_malformed() -> None:
    found = parsed(
        "telegram_id,date,kind,amount,ref\n101,2026-02-10,service,10,A1\n102,2026-02-10,service,10,A1\n"
    )

    assert found.malformed == [Malformed(3, RowProblem.REF_REUSED, "2")]


def test_the_key_is_the_reference_or_a_digest_of_what_the_row_says() -> None:
    member = MemberKey(MemberKeyKind.TELEGRAM_ID, "101")
    day, kind = date(2026, 2, 10), ConversionKind.SERVICE

    assert conversion_key(member, day, kind, 100, "WO-1") == "ref:WO-1"
    digest = conversion_key(member, day, kind, 100, None)
    assert digest == conversion_key(member, day, kind, 100, None)
    assert digest != conversion_key(member, day, kind, 101, None)
    assert digest != conversion_key(MemberKey(MemberKeyKind.PHONE, "+101"), day, kind, 100, None)


# -- malformed lines


def test_every_kind_of_bad_line_is_reported_with_its_line_number() -> None:
    found = parsed(
        "telegram_id,phone,date,kind,amount,ref\n"
        ",,2026-02-10,service,1,\n"  # 2: no member
        "101,+8613812345678,2026-02-10,service,1,\n"  # 3: both
        "-5,,2026-02-10,service,1,\n"  # 4: not an id
        ",0138 1234 5678,2026-02-10,service,1,\n"  # 5: a local number
        "101,,,service,1,\n"  # 6: no date
        "101,,02/10/2026,service,1,\n"  # 7: not ISO
        "101,,2026-02-30,service,1,\n"  # 8: no such day
        "101,,2026-03-03,service,1,\n"  # 9: tomorrow
        "101,,2026-02-10,,1,\n"  # 10: no kind
        "101,,2026-02-10,repair,1,\n"  # 11: unknown kind
        "101,,2026-02-10,service,1;5,\n"  # 12: not a number
        "101,,2026-02-10,service,-5,\n"  # 13: negative
        "101,,2026-02-10,service,1.234,\n"  # 14: three decimals
        "101,,2026-02-10,service,100000000000,\n"  # 15: too large
        f"101,,2026-02-10,service,1,{'R' * 61}\n"  # 16: ref too long
        "101,,2026-02-10,service,1,,surplus\n"  # 17: a value without a column
    )

    assert [(problem.line, problem.problem) for problem in found.malformed] == [
        (2, RowProblem.NO_MEMBER),
        (3, RowProblem.TWO_MEMBERS),
        (4, RowProblem.BAD_TELEGRAM_ID),
        (5, RowProblem.BAD_PHONE),
        (6, RowProblem.NO_DATE),
        (7, RowProblem.BAD_DATE),
        (8, RowProblem.BAD_DATE),
        (9, RowProblem.FUTURE_DATE),
        (10, RowProblem.NO_KIND),
        (11, RowProblem.BAD_KIND),
        (12, RowProblem.BAD_AMOUNT),
        (13, RowProblem.NEGATIVE_AMOUNT),
        (14, RowProblem.TOO_MANY_DECIMALS),
        (15, RowProblem.AMOUNT_TOO_LARGE),
        (16, RowProblem.REF_TOO_LONG),
        (17, RowProblem.EXTRA_VALUES),
    ]
    assert found.malformed_lines == 16
    assert found.rows == []
    assert found.malformed[5].value == "02/10/2026"


def test_a_line_with_several_problems_lists_each() -> None:
    found = parsed("telegram_id,date,kind\nabc,yesterday,gift\n")

    assert [problem.problem for problem in found.malformed] == [
        RowProblem.BAD_TELEGRAM_ID,
        RowProblem.BAD_DATE,
        RowProblem.BAD_KIND,
    ]
    assert found.malformed_lines == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("0", 0),
        ("1234", 123400),
        ("1234.5", 123450),
        ("1234.05", 123405),
        (" 7.10 ", 710),
        ("1,234.50", RowProblem.BAD_AMOUNT),
        ("12,50", RowProblem.BAD_AMOUNT),
        ("1234.", RowProblem.BAD_AMOUNT),
        ("¥100", RowProblem.BAD_AMOUNT),
        ("١٢", RowProblem.BAD_AMOUNT),  # digits, but not ASCII ones
        ("-0.5", RowProblem.NEGATIVE_AMOUNT),
        ("0.001", RowProblem.TOO_MANY_DECIMALS),
    ],
)
def test_amounts_are_decimals_with_a_point_and_at_most_two_decimals(
    text: str, expected: int | RowProblem
) -> None:
    assert parse_amount(text) == expected


# -- files that cannot be read at all


@pytest.mark.parametrize(
    ("content", "problem", "detail"),
    [
        (b"", FileProblem.NO_HEADER, ""),
        (b"\n\n", FileProblem.NO_HEADER, ""),
        (b"telegram_id,date,kind\n", FileProblem.NO_ROWS, ""),
        (
            b"101,2026-02-10,service\n",
            FileProblem.MISSING_COLUMNS,
            "telegram_id or phone, date, kind",
        ),
        (b"phone,kind\n+861,service\n", FileProblem.MISSING_COLUMNS, "date"),
        (b"phone,date,date,kind\n", FileProblem.REPEATED_COLUMN, "date"),
        ("phone,date,kind\n日期".encode("gb18030"), FileProblem.NOT_UTF8, ""),
        (b"phone,date,kind\n" + b"x" * 5_000_000, FileProblem.TOO_LARGE, ""),
    ],
)
def test_a_file_without_a_usable_header_or_rows_is_refused_whole(
    content: bytes, problem: FileProblem, detail: str
) -> None:
    with pytest.raises(UnreadableConversionFile) as refused:
        parse_conversions(content, today=TODAY)

    assert (refused.value.problem, refused.value.detail) == (problem, detail)


# -- phone numbers and contact messages


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+86 138-1234-5678", "+8613812345678"),
        ("008613812345678", "+8613812345678"),
        ("8613812345678", "+8613812345678"),  # as Telegram's contact messages often carry it
        ("+1 (415) 555.0100", "+14155550100"),
        ("013812345678", None),  # a local number: no country code
        ("+86 138 abc", None),
        ("+123", None),
        ("+1234567890123456", None),  # 16 digits
        ("", None),
    ],
)
def test_phone_numbers_become_a_plus_and_digits_with_the_country_code(
    raw: str, expected: str | None
) -> None:
    assert normalise_phone(raw) == expected


@pytest.mark.parametrize(
    ("contact_user_id", "relayed", "phone", "verdict"),
    [
        (101, False, "8613812345678", ContactVerdict.OWN),
        (101, True, "8613812345678", ContactVerdict.RELAYED),
        (202, False, "8613812345678", ContactVerdict.SOMEONE_ELSE),
        (None, False, "8613812345678", ContactVerdict.NO_ACCOUNT),
        (101, False, "12", ContactVerdict.BAD_NUMBER),
    ],
)
def test_only_a_members_own_contact_not_forwarded_is_their_number(
    contact_user_id: int | None, relayed: bool, phone: str, verdict: ContactVerdict
) -> None:
    found = contact_verdict(
        sender_id=101, contact_user_id=contact_user_id, relayed=relayed, phone=phone
    )

    assert found is verdict


# -- purchase points


def test_a_purchase_earns_the_flat_points_and_more_per_hundred_of_its_amount() -> None:
    assert purchase_points(PointsRules(), 18900000) == 200
    rules = rules_from_settings({"purchase": 50, "purchase_per_100": 2})
    assert purchase_points(rules, 1999) == 50  # 19.99: no whole hundred
    assert purchase_points(rules, 25050) == 54  # 250.50: two whole hundreds
    assert PointsRules().changed("purchase_per_100", 3).purchase_per_100 == 3
    with pytest.raises(ValueError, match="purchase_per_100"):
        PointsRules().changed("purchase_per_100", 10_001)
