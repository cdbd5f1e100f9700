"""Which library validates dataclasses and query scalars faster: pydantic v2 or msgspec?

Run ``python -m bench.binding_libs``; the numbers go into docs/decisions/024-typed-binding.md.
Each case validates what erlen.binding hands the library per request: a decoded JSON dict for
a 5-field dataclass (valid and invalid), and query-string values (``str``) for scalars.
"""

from __future__ import annotations

import dataclasses
import timeit

import msgspec
import pydantic


@dataclasses.dataclass
class Item:
    name: str
    price: float
    quantity: int
    tags: list[str]
    active: bool = True


ITEM = {"name": "widget", "price": 9.5, "quantity": 3, "tags": ["a", "b"], "active": True}
BAD = {"name": "widget", "price": "x", "quantity": 3, "tags": ["a", "b"]}
RAW = msgspec.json.encode(ITEM)


def _pyd(tp: object, value: object) -> object:
    adapter = pydantic.TypeAdapter(tp)
    return lambda: adapter.validate_python(value)


def _pyd_json(tp: object, raw: bytes) -> object:
    adapter = pydantic.TypeAdapter(tp)
    return lambda: adapter.validate_json(raw)


def _ms(tp: object, value: object, strict: bool = True) -> object:
    convert = msgspec.convert
    return lambda: convert(value, tp, strict=strict)


def _ms_json(tp: object, raw: bytes) -> object:
    decoder = msgspec.json.Decoder(tp)
    return lambda: decoder.decode(raw)


def _catch(fn: object) -> object:
    def run() -> None:
        try:
            fn()  # type: ignore[operator]
        except (pydantic.ValidationError, msgspec.ValidationError):
            pass

    return run


CASES: list[tuple[str, object, object]] = [
    ("dataclass dict (valid)", _pyd(Item, ITEM), _ms(Item, ITEM)),
    ("dataclass dict (invalid)", _catch(_pyd(Item, BAD)), _catch(_ms(Item, BAD))),
    ("dataclass from JSON bytes", _pyd_json(Item, RAW), _ms_json(Item, RAW)),
    ("int from query str", _pyd(int, "42"), _ms(int, "42", strict=False)),
    ("float from query str", _pyd(float, "4.5"), _ms(float, "4.5", strict=False)),
    ("bool from query str", _pyd(bool, "true"), _ms(bool, "true", strict=False)),
    (
        "list[int] from repeated keys",
        _pyd(list[int], ["1", "2", "3"]),
        _ms(list[int], ["1", "2", "3"], strict=False),
    ),
    ("int | None from query str", _pyd(int | None, "7"), _ms(int | None, "7", strict=False)),
    ("int invalid", _catch(_pyd(int, "x")), _catch(_ms(int, "x", strict=False))),
]


def main() -> None:
    print(f"pydantic {pydantic.VERSION}, msgspec {msgspec.__version__}")
    print(f"{'case':34} {'pydantic ns':>12} {'msgspec ns':>11} {'pyd/msgspec':>11}")
    for name, pyd, ms in CASES:
        times = []
        for fn in (pyd, ms):
            n = 20_000
            best = min(timeit.repeat(fn, number=n, repeat=5))  # type: ignore[arg-type]
            times.append(best / n * 1e9)
        print(f"{name:34} {times[0]:12.0f} {times[1]:11.0f} {times[0] / times[1]:11.2f}")


if __name__ == "__main__":
    main()
