"""Travel-matrix providers: the only place that knows how travel is measured."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from .model import Location, TravelSettings

EARTH_RADIUS_KM = 6371.0088
MINUTES_PER_HOUR = 60.0
# Guards against float noise turning an exact integer into the next one up.
CEIL_EPSILON = 1e-9

IntMatrix = npt.NDArray[np.int64]
FloatMatrix = npt.NDArray[np.float64]


class TravelMatrixProvider(Protocol):
    def matrices(self, locations: Sequence[Location]) -> tuple[IntMatrix, FloatMatrix]:
        """Return (travel minutes as ceiled ints, travel km) for all pairs."""
        ...


def _ceil(values: FloatMatrix) -> IntMatrix:
    return np.ceil(values - CEIL_EPSILON).astype(np.int64)


class GreatCircleProvider:
    """Haversine distance times a detour factor, driven at a constant speed."""

    def __init__(self, detour_factor: float = 1.3, speed_kmh: float = 40.0) -> None:
        self.detour_factor = detour_factor
        self.speed_kmh = speed_kmh

    def matrices(self, locations: Sequence[Location]) -> tuple[IntMatrix, FloatMatrix]:
        lat = np.radians(np.array([loc.lat for loc in locations], dtype=np.float64))
        lon = np.radians(np.array([loc.lon for loc in locations], dtype=np.float64))
        dlat = lat[:, None] - lat[None, :]
        dlon = lon[:, None] - lon[None, :]
        a = np.sin(dlat / 2) ** 2 + np.cos(lat)[:, None] * np.cos(lat)[None, :] * np.sin(dlon / 2) ** 2
        km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
        km = km * self.detour_factor
        minutes = _ceil(km / self.speed_kmh * MINUTES_PER_HOUR)
        return minutes, km


class EuclideanProvider:
    """Planar distance (x=lat, y=lon); time units = distance * scale, ceiled.

    Used for Solomon instances, where travel time equals distance.
    """

    def __init__(self, scale: float = 1.0) -> None:
        self.scale = scale

    def matrices(self, locations: Sequence[Location]) -> tuple[IntMatrix, FloatMatrix]:
        xy = np.array([(loc.lat, loc.lon) for loc in locations], dtype=np.float64)
        dist = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
        return _ceil(dist * self.scale), dist


def provider_for(settings: TravelSettings) -> TravelMatrixProvider:
    if settings.kind == "euclidean":
        return EuclideanProvider(settings.scale)
    return GreatCircleProvider(settings.detour_factor, settings.speed_kmh)
