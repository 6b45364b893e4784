"""What a viewer may see: the cities, districts and insurer of their account. Every `Filters` carries one, and a
`Filters` cannot name anything outside it (see `Filters.__post_init__`), so every query function obeys the scope
without checking it itself.

The scope comes from the signed-in user (`services.identity`), never from the URL. The URL may only narrow the view
inside it. Command-line work and background jobs run with `EVERYTHING`.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("leader", "district", "insurer", "planner", "wall", "admin")
SYSTEM = "system"          # the command line and background jobs: not an account


class OutOfScope(ValueError):
    """A view names a city, district or insurer outside the viewer's scope. `what` is `city`, `district` or
    `insurer`; the message never repeats the request's text beyond the code it named."""

    def __init__(self, what: str, code: str) -> None:
        super().__init__(f"{what} {code[:12]} is not in your scope")
        self.what = what
        self.code = code[:12]


@dataclass(frozen=True)
class Scope:
    """`cities` empty: every city. `districts` empty: every district of those cities. `insurers` empty: every
    insurer; else (city adcode, insurer id) pairs of the one insurer company the viewer works for, one per city."""

    role: str = SYSTEM
    user: str = ""
    cities: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()
    insurers: tuple[tuple[str, int], ...] = ()
    insurer_code: str = ""

    @property
    def whole_cities(self) -> bool:
        """True when the viewer sees every district of its cities (their city-wide figures and breakdowns)."""
        return not self.districts

    @property
    def every_insurer(self) -> bool:
        return not self.insurers

    def allows_city(self, city: str) -> bool:
        return not self.cities or city in self.cities

    def allows_district(self, district: str) -> bool:
        return not self.districts or district in self.districts

    def insurer_in(self, city: str) -> int | None:
        """The viewer's insurer id in `city` (None when the viewer is not an insurer, or it has no rows there)."""
        return next((insurer for c, insurer in self.insurers if c == city), None)

    def narrow(self, city: str, districts: tuple[str, ...], insurer: int | None) -> tuple[tuple[str, ...], int | None]:
        """The districts and insurer a view of `city` asking for `districts` and `insurer` may show: the request when
        it lies inside the scope, the whole scope when it asks for nothing narrower; OutOfScope otherwise."""
        if not self.allows_city(city):
            raise OutOfScope("city", city)
        if self.districts:
            outside = [code for code in districts if code not in self.districts]
            if outside:
                raise OutOfScope("district", outside[0])
            districts = districts or self.districts_of_city(city)
            if not districts:
                raise OutOfScope("city", city)
        if self.insurers:
            own = self.insurer_in(city)
            if own is None:
                raise OutOfScope("city", city)
            if insurer is not None and insurer != own:
                raise OutOfScope("insurer", str(insurer))
            insurer = own
        return districts, insurer

    def districts_of_city(self, city: str) -> tuple[str, ...]:
        """The scope's districts that lie in `city`. District adcodes begin with their city's first four digits,
        except the municipalities' (500000: 5001xx, 5002xx), which begin with its first two."""
        prefix = city[:2] if city.endswith("0000") else city[:4]
        return tuple(code for code in self.districts if code.startswith(prefix))


EVERYTHING = Scope()
