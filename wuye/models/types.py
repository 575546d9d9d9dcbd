"""The value types every record shares: ids, money, phones, ID numbers, company codes.

Money is a Decimal with exactly two places (fen), never a float, never negative in a record; it is
written as a string (`"120000.00"`). Phone and ID numbers are strings, so leading zeros survive.
Checks use well-kept libraries: phonenumbers for mainland numbers, python-stdnum for 身份证号 and
统一社会信用代码 checksums. A failed USCC checksum is only a warning (early pilot codes fail it):
the validator records it in the validation context's `warnings` list when one is given.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, ValidationInfo, WrapValidator

from wuye.i18n import tr
from wuye.models.ids import ID_RE, check_id, check_unit  # noqa: F401 (re-exported)

EntityId = Annotated[str, AfterValidator(check_id)]
# A 房号 as the office writes it (A座801); its file name is ids.unit_id() of it, never the text itself.
UnitLabel = Annotated[str, AfterValidator(check_unit)]

CENT = Decimal("0.01")
# No amount of an office building reaches ten billion yuan; past this a typo (or 1e30) is refused
# with its value, instead of decimal's InvalidOperation when a 29-digit amount is rounded to fen.
MAX_AMOUNT = Decimal("9999999999.99")
# The largest integer JSON (and so the canonical form that is signed, RFC 8785) holds exactly.
MAX_COUNT = 2**53 - 1


def parse_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError(tr("应为金额，不是真假值", "must be an amount, not true/false"))
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, (int, float, str)):
        text = str(value).strip().replace(",", "")
        if len(text) > 60:  # no amount is written with more; Decimal would take a megabyte of digits
            raise ValueError(tr("不是金额：数字过长（%d 个字符）", "not an amount: the number is too long (%d characters)") % len(text))
        try:
            d = Decimal(text)
        except InvalidOperation:
            raise ValueError(tr("不是数字：%r", "not a number: %r") % value) from None
    else:
        raise ValueError(tr("应为数字", "must be a number"))
    if not d.is_finite():
        raise ValueError(tr("不是有限的数字：%r", "not a finite number: %r") % value)
    if abs(d) > MAX_AMOUNT:
        raise ValueError(tr("数字过大：%s（最多 9,999,999,999.99）", "number too large: %s (at most 9,999,999,999.99)") % _short(d))
    return d


def _short(d: Decimal) -> str:
    text = str(d)
    return text if len(text) <= 24 else text[:23] + "…"


def to_money(value: Any) -> Decimal:
    """An amount in a record: never negative, whole fen."""
    d = parse_decimal(value)
    if d < 0:
        raise ValueError(tr("金额不能为负：%s", "amount cannot be negative: %s") % d)
    return to_signed_money(d)


def to_signed_money(value: Any) -> Decimal:
    """A balance (a refund or an amount due): whole fen, either sign."""
    d = parse_decimal(value)
    if d != d.quantize(CENT):
        raise ValueError(
            tr("金额最多两位小数（分）：%s", "amount has more than two decimal places (fen): %s") % d
        )
    return d.quantize(CENT)


def to_reading(value: Any) -> Decimal:
    d = parse_decimal(value)
    if d < 0:
        raise ValueError(tr("读数不能为负：%s", "a reading cannot be negative: %s") % d)
    return d


_as_str = PlainSerializer(lambda d: str(d), return_type=str)

# Money in a record: >= 0, two places, serialised as a string.
Money = Annotated[Decimal, BeforeValidator(to_money), _as_str, Field(json_schema_extra={"examples": ["120000.00"]})]
# A balance (settlement total) may be negative: an amount due.
SignedMoney = Annotated[Decimal, BeforeValidator(to_signed_money), _as_str]
# A meter reading or a rate: exact, any number of places.
Reading = Annotated[Decimal, BeforeValidator(to_reading), _as_str]


# A count (cards issued, keys returned): an integer JSON holds exactly, so it can be signed.
# As Field bounds (not a validator) so that a field's own `ge=0` still reaches its JSON Schema.
Count = Annotated[int, Field(le=MAX_COUNT)]  # every count field has its own ge=0 (or 1)

# What stored text may not hold: C0 controls but tab and newline, DEL and C1 (ESC starts a
# terminal escape; `\x1b]0;…\x07` retitles the window). The YAML reader refuses them in files;
# this rule is for text that comes another way (--set, a CSV or a workbook, a JSON export).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def check_stored_text(value: Any) -> Any:
    """`value` (a text, or a list of texts) if it holds no control character but tab and newline."""
    if isinstance(value, str):
        bad = _CONTROL.search(value)
        if bad is not None:
            raise ValueError(tr("不能含控制字符（发现 U+%04X）；请删除它", "must not hold control characters (found U+%04X); remove it")
                             % ord(bad.group()))
    elif isinstance(value, list):
        for v in value:
            check_stored_text(v)
    return value


def _strict_text(value: Any, handler, info: ValidationInfo):
    # YAML reads an unquoted 13812345678 or 0101 as a number: the leading zero is already gone,
    # so refuse it and say to quote, rather than guess.
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(
            tr("应为文本：请给 %r 加上引号，否则开头的 0 会丢失",
               "must be text: put %r in quotes, or leading zeros are lost") % value
        )
    return handler(value)


def check_phone(value: str) -> str:
    """A mainland (+86) mobile or fixed-line number, kept as entered but without spaces."""
    import phonenumbers

    cleaned = re.sub(r"[\s()（）]", "", value)
    try:
        number = phonenumbers.parse(cleaned, "CN")
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValueError(
            tr("电话号码无效：%r（手机 11 位，座机带区号，如 010-65881234）",
               "invalid phone number: %r (mobile: 11 digits; landline with area code, e.g. 010-65881234)") % value
        )
    return cleaned


def check_ric(value: str) -> str:
    """18-character 居民身份证号 with a valid checksum and birth date."""
    from stdnum.cn import ric
    from stdnum.exceptions import ValidationError

    try:
        return ric.validate(value.strip().upper())
    except ValidationError as e:
        raise ValueError(tr("身份证号无效：%r（%s）", "invalid ID card number: %r (%s)") % (value, e)) from None


def check_uscc(value: str, info: ValidationInfo) -> str:
    """统一社会信用代码: the form is required, a failed checksum only warns."""
    from stdnum.cn import uscc
    from stdnum.exceptions import InvalidChecksum, ValidationError

    code = value.strip().upper()
    try:
        return uscc.validate(code)
    except InvalidChecksum:
        warnings = (info.context or {}).get("warnings")
        if warnings is not None:
            warnings.append(
                (info.field_name, tr("统一社会信用代码 %s 校验位不符（早期试点代码可能如此），请核对",
                                     "USCC %s fails its checksum (early pilot codes do); please check it") % code)
            )
        return code
    except ValidationError as e:
        raise ValueError(
            tr("统一社会信用代码无效：%r（应为 18 位数字和大写字母，%s）",
               "invalid unified social credit code: %r (18 digits and capital letters; %s)") % (value, e)
        ) from None


# Bidirectional-text controls reorder what is shown (U+202E turns "gpj.exe" into "exe.jpg").
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def check_one_line(value: str) -> str:
    """A name: one line of visible text. A newline in a name would add lines to the commit
    message that names it (forging `Wuye-*` trailers), and control characters break the screen."""
    import unicodedata

    for c in value:
        if unicodedata.category(c) in ("Cc", "Zl", "Zp") or c in _BIDI:
            raise ValueError(tr("不能含换行、制表符或控制字符（发现 U+%04X）",
                                "must be one line without control characters (found U+%04X)") % ord(c))
    return value


Text = Annotated[str, WrapValidator(_strict_text)]
OneLine = Annotated[str, WrapValidator(_strict_text), AfterValidator(check_one_line)]
Phone = Annotated[str, WrapValidator(_strict_text), AfterValidator(check_phone), Field(json_schema_extra={"examples": ["13812345678"]})]
IdCardNumber = Annotated[str, WrapValidator(_strict_text), AfterValidator(check_ric)]
USCC = Annotated[str, WrapValidator(_strict_text), AfterValidator(check_uscc)]
