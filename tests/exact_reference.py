"""The arithmetic rules of the README ("Conventions where contracts are silent"), written
in exact rational arithmetic (`fractions.Fraction`), independently of the runtime: the
reference that tests/test_exact_money.py and the compiled-arithmetic properties of
tests/test_fuzz.py check the compiled code and the interpreter against.
"""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

QUOTIENT_DIGITS = 28
POWER_DIGITS = 10_000
SMALLEST = Fraction(1, 10**999999)
LARGEST = Fraction(10**1000000)


class TooLarge(ArithmeticError):
    pass


class TooSmall(ArithmeticError):
    pass


class TooManyDigits(ArithmeticError):
    pass


class Undefined(ArithmeticError):
    pass


def within_limits(value: Fraction) -> Fraction:
    if value and abs(value) >= LARGEST:
        raise TooLarge(value)
    if value and abs(value) < SMALLEST:
        raise TooSmall(value)
    return value


def digits(number: int) -> int:
    """How many decimal digits a positive int has (str() refuses ints this long)."""
    e = int(number.bit_length() * 0.30102999566398120)
    while e > 0 and 10**e > number:
        e -= 1
    while 10 ** (e + 1) <= number:
        e += 1
    return e + 1


def magnitude(value: Fraction) -> int:
    """floor(log10(|value|)) of a nonzero value, exactly."""
    value = abs(value)
    e = digits(value.numerator) - digits(value.denominator)
    while value < Fraction(10) ** e:
        e -= 1
    while value >= Fraction(10) ** (e + 1):
        e += 1
    return e


def _valuation(number: int, prime: int) -> int:
    """How many times `prime` divides a positive int (galloping: few big divisions)."""
    count = 0
    while number % prime == 0:
        step = 1
        while number % prime ** (2 * step) == 0:
            step *= 2
        number //= prime**step
        count += step
    return count


def terminates(value: Fraction) -> bool:
    """Whether the decimal expansion of `value` is finite."""
    d = value.denominator
    return bool(d == 2 ** _valuation(d, 2) * 5 ** _valuation(d, 5))


def coefficient(value: Decimal | Fraction | int) -> tuple[int, int]:
    """(c, k) with |value| = c * 10^k and c not a multiple of 10 (c = 0 for 0)."""
    x = abs(Fraction(value))
    assert terminates(x)
    if x == 0:
        return 0, 0
    places = max(_valuation(x.denominator, 2), _valuation(x.denominator, 5))
    c = x.numerator * 10**places // x.denominator
    zeros = _valuation(c, 10)
    return c // 10**zeros, zeros - places


def reference_quotient(a: Fraction | int | Decimal, b: Fraction | int | Decimal) -> Fraction:
    """The division rule: exact when the quotient terminates; otherwise rounded half-even
    at the 28th significant digit after its whole-number part (the 28th decimal place
    for a quotient of at least 0.1, the 28th significant digit below that)."""
    if b == 0:
        raise ZeroDivisionError
    q = Fraction(a) / Fraction(b)
    if terminates(q):
        return within_limits(q)
    within_limits(q)
    places = QUOTIENT_DIGITS - 1 - min(magnitude(q), -1)
    return within_limits(Fraction(round(q * 10**places), 10**places))  # half-even


def reference_power(base: Fraction | int | Decimal, exponent: int) -> Fraction:
    """Exact while it has at most 10,000 significant digits; x ^ -n is 1 / x ^ n (and x ^ n
    must be within the limits itself)."""
    x = Fraction(base)
    if x == 0 and exponent <= 0:
        raise ZeroDivisionError if exponent else Undefined
    if x == 0:
        return x
    if abs(x) == 1:
        return Fraction(-1 if x < 0 and exponent % 2 else 1)
    n = abs(exponent)
    c, _ = coefficient(x)
    # x ^ n = c ^ n * 10 ^ (k * n), and c ^ n has no trailing zeros (c has no factor 10,
    # so not both 2 and 5): its digits are the significant ones.
    size = n * math.log10(abs(x))  # log10 |x ^ n|, roughly
    many = n * math.log10(c) > POWER_DIGITS + 2
    if size >= 1_000_000 - 2 or size < -999_999 + 2:
        assert not (many and (999_990 < abs(size) < 1_000_010)), "too close to call"
        if many or abs(size) > 1_000_010:
            large = size > 0
            raise (TooLarge if large == (exponent > 0) else TooSmall)
    if many:
        raise TooManyDigits
    power = x**n
    try:
        within_limits(power)
    except TooLarge:
        raise (TooLarge if exponent > 0 else TooSmall) from None
    except TooSmall:
        raise (TooSmall if exponent > 0 else TooLarge) from None
    if digits(coefficient(power)[0]) > POWER_DIGITS:
        raise TooManyDigits
    return power if exponent >= 0 else reference_quotient(1, power)


def reference_round(value: Fraction | int | Decimal, places: int) -> Fraction:
    """Half up: to the nearest multiple of 10^-places, halves away from zero."""
    x = Fraction(value)
    scale = Fraction(10) ** places
    rounded = math.floor(abs(x) * scale + Fraction(1, 2))
    return (rounded if x >= 0 else -rounded) / scale
