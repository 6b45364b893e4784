"""The argument types of every `jingbao` command: a bad value is one clear line and exit code 2."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

EXIT_USAGE = 2


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a bad flag prints one line (no usage dump) and exits with 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def date_arg(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date like 2020-06-01") from None


def adcode_arg(value: str) -> str:
    if len(value) != 6 or not value.isdigit():
        raise argparse.ArgumentTypeError(f"{value!r} is not a 6-digit adcode")
    return value


def adcodes_arg(value: str) -> tuple[str, ...]:
    return tuple(adcode_arg(v.strip()) for v in value.split(",") if v.strip())


def positive_number(most: float, limit_text: str):
    """An argparse type: a number more than 0 and at most `most`; anything else one clear line."""

    def parse(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
        if not 0 < number <= most:
            raise argparse.ArgumentTypeError(f"{value!r} must be {limit_text}")
        return number

    return parse


scale_arg = positive_number(10, "in (0, 10]")


def workers_arg(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if not 1 <= number <= 64:
        raise argparse.ArgumentTypeError(f"{value!r} must be 1 to 64")
    return number


def source_arg(value: str) -> str:
    value = value.strip()
    if not value or len(value) > 40:
        raise argparse.ArgumentTypeError(f"{value!r}: a source name has 1 to 40 characters")
    return value


def existing_file(value: str) -> Path:
    path = Path(value)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{value!r} is not a file")
    return path
