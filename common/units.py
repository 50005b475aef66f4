"""Units of the wire contract: amounts travel as integer micro-CPT (1 CPT = 1,000,000 ucpt).

Both sides convert with these helpers so "1.5" CPT means 1_500_000 ucpt everywhere.
"""

from decimal import ROUND_DOWN, Decimal, InvalidOperation

UCPT_PER_CPT = 1_000_000


def parse_cpt(text: str | int | Decimal) -> int:
    """'1.5' -> 1_500_000. Rejects negatives, NaN and anything finer than 1 ucpt."""
    try:
        value = Decimal(str(text).strip())
    except InvalidOperation:
        raise ValueError(f"not an amount: {text!r} (use a number of CPT such as 1.5)") from None
    if not value.is_finite():
        raise ValueError(f"not an amount: {text!r}")
    if value < 0:
        raise ValueError(f"amount must not be negative: {text}")
    ucpt = value * UCPT_PER_CPT
    if ucpt != ucpt.to_integral_value():
        raise ValueError(f"amount {text} is finer than 1 micro-CPT (6 decimal places at most)")
    return int(ucpt)


def format_ucpt(ucpt: int) -> str:
    """1_500_000 -> '1.5', 7 -> '0.000007', -2_000_000 -> '-2'."""
    value = (Decimal(ucpt) / UCPT_PER_CPT).quantize(Decimal("0.000001"), rounding=ROUND_DOWN)
    text = format(value, "f").rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"
