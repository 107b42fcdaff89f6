"""Walking TikTok's page-numbered lists (ad/get/, smart_plus/ad/get/, comment/list/,
comment/reference/): callers iterate, they do not count pages.

:func:`iter_numbered_pages` walks a list at one page size. :func:`iter_stepping_pages` also
survives TikTok refusing the page size: it steps down to a smaller size and walks the list
again from page 1 of that size (page numbers depend on the size), yielding each item once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any, TypeVar

from .errors import TikTokError
from .learned import rejects, step_down
from .models import Page

__all__ = ["iter_numbered_pages", "iter_stepping_pages"]

log = logging.getLogger(__name__)

T = TypeVar("T")


def iter_numbered_pages(
    fetch: Callable[[int], Page[T]], page_size: int, max_pages: int | None = None
) -> Iterator[T]:
    """Every item of a page-numbered list, each page fetched only when the items before it
    have been taken.

    ``fetch(page)`` returns page number ``page`` (1, 2, ...) asked for with ``page_size`` items.
    Paging stops after an empty page, at the page the answer's ``page_info.total_page`` names,
    at a page shorter than ``page_size`` when TikTok sends no total, or after ``max_pages``
    pages (None: no limit).
    """
    page = 1
    while max_pages is None or page <= max_pages:
        result = fetch(page)
        yield from result.items
        if last_page(result, page, page_size):
            return
        page += 1


def iter_stepping_pages(
    fetch: Callable[[int, int], Page[T]],
    page_size: int,
    ladder: Sequence[int],
    *,
    learn: Callable[[int], object],
    key: Callable[[T], Hashable],
    parameter: str = "page_size",
) -> Iterator[T]:
    """Every item of a page-numbered list whose largest page size is not known.

    ``fetch(page, size)`` returns page ``page`` of ``size`` items. When TikTok rejects the size
    (40000/40002 naming ``parameter``), the next size is the limit TikTok's message states or
    else the next smaller rung of ``ladder`` (see :func:`~tiktok_client.learned.step_down`),
    and the list is walked again from page 1 of that size; items already yielded (same
    ``key``) are not yielded again, so a step-down in the middle of a list skips nothing and
    repeats nothing. ``learn(size)`` is called with the size of the first page that succeeds
    after a rejection (a limit TikTok's message states is learned once TikTok accepted it).
    When nothing smaller is left the rejection reaches the caller: no size is sent twice.
    """
    size = page_size
    seen: set[Hashable] = set()
    stepped = False
    while True:
        try:
            for result in _pages(fetch, size):
                if stepped:
                    learn(size)
                    stepped = False
                for item in result.items:
                    identity = key(item)
                    if identity not in seen:
                        seen.add(identity)
                        yield item
            return
        except TikTokError as err:
            smaller = step_down(size, ladder, err.message) if rejects(err, parameter) else None
            if smaller is None:
                raise
            log.info("%s %d refused (code %s); trying %d", parameter, size, err.code, smaller)
            size, stepped = smaller, True


def _pages(fetch: Callable[[int, int], Page[T]], size: int) -> Iterator[Page[T]]:
    page = 1
    while True:
        result = fetch(page, size)
        yield result
        if last_page(result, page, size):
            return
        page += 1


def last_page(result: Page[Any], page: int, page_size: int) -> bool:
    """True when ``result``, page number ``page`` of ``page_size`` items, ends its list."""
    if not result.items:
        return True
    total_page = result.page_info.total_page
    if total_page is not None:
        return page >= total_page
    return len(result.items) < page_size
