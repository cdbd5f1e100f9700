"""``Model.query``: SQLAlchemy's legacy ``Query`` with the 404 shortcuts views want."""

from __future__ import annotations

import typing as t

import sqlalchemy.exc as sa_exc
import sqlalchemy.orm as sa_orm

from ..helpers import abort
from .pagination import Pagination, QueryPagination


class Query(sa_orm.Query):  # type: ignore[type-arg]
    """The query class of ``Model.query`` and of relationships built with
    ``db.relationship(lazy="dynamic")``."""

    def get_or_404(self, ident: t.Any, description: str | None = None) -> t.Any:
        """The row with this primary key, else abort with 404."""
        entity: t.Any = self.column_descriptions[0]["entity"]
        rv = self.session.get(entity, ident)  # Query.get() warns as legacy since 2.0
        if rv is None:
            abort(404, description=description)
        return rv

    def first_or_404(self, description: str | None = None) -> t.Any:
        """The first row, else abort with 404."""
        rv = self.first()
        if rv is None:
            abort(404, description=description)
        return rv

    def one_or_404(self, description: str | None = None) -> t.Any:
        """Exactly one row, else (none or several) abort with 404."""
        try:
            return self.one()
        except (sa_exc.NoResultFound, sa_exc.MultipleResultsFound):
            abort(404, description=description)

    def paginate(
        self,
        *,
        page: int | None = None,
        per_page: int | None = None,
        max_per_page: int | None = None,
        error_out: bool = True,
        count: bool = True,
    ) -> Pagination:
        """One page of this query (see ``SQLAlchemy.paginate`` for the arguments)."""
        return QueryPagination(
            query=self,
            page=page,
            per_page=per_page,
            max_per_page=max_per_page,
            error_out=error_out,
            count=count,
        )
