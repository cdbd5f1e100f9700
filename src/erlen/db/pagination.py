"""Pagination of a ``select()`` or a legacy ``Query``, with the numbers templates need.

``page`` and ``per_page`` come from the arguments, else from ``request.args``, else 1 and 20.
A value that is not an integer, a page or ``per_page`` below 1, or an empty page other than
the first aborts with 404 unless ``error_out=False`` (then the defaults are used), as
Flask-SQLAlchemy 3.1 does.
"""

from __future__ import annotations

import typing as t
from math import ceil

import sqlalchemy as sa
import sqlalchemy.orm as sa_orm

from ..ctx import has_request_context
from ..globals import request
from ..helpers import abort

_DEFAULT_PER_PAGE = 20


def _int_arg(args: t.Any, name: str, default: int, error_out: bool) -> int:
    try:
        return int(args.get(name, default))
    except (TypeError, ValueError):
        if error_out:
            abort(404)
        return default


class Pagination:
    """One page of results: ``items`` and the numbers around it (``total``, ``pages``,
    ``has_next``, ``next_num``, ``iter_pages()``…). Built by ``db.paginate`` or
    ``Query.paginate``, not directly."""

    def __init__(
        self,
        page: int | None = None,
        per_page: int | None = None,
        max_per_page: int | None = None,
        error_out: bool = True,
        count: bool = True,
        **kwargs: t.Any,
    ) -> None:
        self._query_args = kwargs
        page, per_page = self._prepare_page_args(page, per_page, max_per_page, error_out)
        self.page: int = page
        """The current page number (from 1)."""
        self.per_page: int = per_page
        """The maximum number of items on a page."""
        self.max_per_page: int | None = max_per_page
        """The limit on ``per_page``, if any."""
        items = self._query_items()
        if not items and page != 1 and error_out:
            abort(404)
        self.items: list[t.Any] = items
        """The items on this page."""
        self.total: int | None = self._query_count() if count else None
        """The number of items over all pages (None when ``count=False``)."""

    @staticmethod
    def _prepare_page_args(
        page: int | None, per_page: int | None, max_per_page: int | None, error_out: bool
    ) -> tuple[int, int]:
        args: t.Any = request.args if has_request_context() else {}
        if page is None:
            page = _int_arg(args, "page", 1, error_out)
        if per_page is None:
            per_page = _int_arg(args, "per_page", _DEFAULT_PER_PAGE, error_out)
        if max_per_page is not None:
            per_page = min(per_page, max_per_page)
        if page < 1:
            if error_out:
                abort(404)
            page = 1
        if per_page < 1:
            if error_out:
                abort(404)
            per_page = _DEFAULT_PER_PAGE
        return page, per_page

    @property
    def _query_offset(self) -> int:
        return (self.page - 1) * self.per_page

    def _query_items(self) -> list[t.Any]:
        raise NotImplementedError

    def _query_count(self) -> int:
        raise NotImplementedError

    @property
    def first(self) -> int:
        """The 1-based number of the first item on this page (0 when it is empty)."""
        if not self.items:
            return 0
        return self._query_offset + 1

    @property
    def last(self) -> int:
        """The 1-based number of the last item on this page (0 when it is empty)."""
        if not self.items:
            return 0
        return self._query_offset + len(self.items)

    @property
    def pages(self) -> int:
        """The number of pages (0 when there are no items or no count)."""
        if not self.total or not self.per_page:
            return 0
        return ceil(self.total / self.per_page)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    def prev(self, *, error_out: bool = False) -> Pagination:
        """The previous page (same arguments)."""
        return self._other_page(self.page - 1, error_out)

    def _other_page(self, page: int, error_out: bool) -> Pagination:
        return type(self)(
            page=page,
            per_page=self.per_page,
            max_per_page=self.max_per_page,
            error_out=error_out,
            count=self.total is not None,
            **self._query_args,
        )

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None

    def next(self, *, error_out: bool = False) -> Pagination:
        """The next page (same arguments)."""
        return self._other_page(self.page + 1, error_out)

    def iter_pages(
        self,
        *,
        left_edge: int = 2,
        left_current: int = 2,
        right_current: int = 4,
        right_edge: int = 2,
    ) -> t.Iterator[int | None]:
        """Page numbers for a pager: the first ``left_edge`` pages, the pages around the
        current one, the last ``right_edge``; ``None`` stands for each gap."""
        end = self.pages + 1  # one past the last page
        if end == 1:
            return
        left_end = min(1 + left_edge, end)
        yield from range(1, left_end)
        if left_end == end:
            return
        mid_start = max(left_end, self.page - left_current)
        mid_end = min(self.page + right_current + 1, end)
        if mid_start > left_end:
            yield None
        yield from range(mid_start, mid_end)
        if mid_end == end:
            return
        right_start = max(mid_end, end - right_edge)
        if right_start > mid_end:
            yield None
        yield from range(right_start, end)

    def __iter__(self) -> t.Iterator[t.Any]:
        yield from self.items


class SelectPagination(Pagination):
    """A page of a ``select()`` run on a session (``db.paginate``)."""

    def _query_items(self) -> list[t.Any]:
        select: sa.Select[t.Any] = self._query_args["select"]
        session: sa_orm.Session = self._query_args["session"]
        select = select.limit(self.per_page).offset(self._query_offset)
        return list(session.execute(select).unique().scalars())

    def _query_count(self) -> int:
        select: sa.Select[t.Any] = self._query_args["select"]
        session: sa_orm.Session = self._query_args["session"]
        sub = select.options(sa_orm.lazyload("*")).order_by(None).subquery()
        return int(session.execute(sa.select(sa.func.count()).select_from(sub)).scalar() or 0)


class QueryPagination(Pagination):
    """A page of a legacy ``Query`` (``Model.query.paginate``)."""

    def _query_items(self) -> list[t.Any]:
        query: sa_orm.Query[t.Any] = self._query_args["query"]
        return query.limit(self.per_page).offset(self._query_offset).all()

    def _query_count(self) -> int:
        query: sa_orm.Query[t.Any] = self._query_args["query"]
        return int(query.order_by(None).count())
