"""Pagination for the APIs' lists: `limit` and `offset`, with a largest page and an offset
PostgreSQL can take.

django-ninja's LimitOffsetPagination bounds neither by default: `limit=100000000` returned
every row in one answer, and an offset past a bigint made PostgreSQL fail the query (a 500).
Out of bounds, both are now refused as invalid (422) before any query runs.
"""

from __future__ import annotations

from ninja import Field, Schema
from ninja.conf import settings as ninja_settings
from ninja.pagination import LimitOffsetPagination

MAX_PAGE_SIZE = 1000
# OFFSET is a bigint in PostgreSQL; the page's end must fit as well.
MAX_OFFSET = 2**63 - 1 - MAX_PAGE_SIZE


class LimitOffset(LimitOffsetPagination):
    class Input(Schema):
        limit: int = Field(min(ninja_settings.PAGINATION_PER_PAGE, MAX_PAGE_SIZE), ge=1, le=MAX_PAGE_SIZE)
        offset: int = Field(0, ge=0, le=MAX_OFFSET)

    def __init__(self, **kwargs: object) -> None:
        super().__init__(max_limit=MAX_PAGE_SIZE, **kwargs)
