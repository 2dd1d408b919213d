# -*- test-case-name: tests.web.test_api_records -*-
"""
REST routes over what the store keeps: transactions and reservations (the
original's lists), id tags, refused id tags and the frame log.

    GET|POST /api/v1/CentralSystem/TransactionList   identity, dateFrom, dateTo, idTag
    GET|POST /api/v1/CentralSystem/ReservationList   identity, dateFrom, dateTo
    GET|POST /api/v1/TransactionList, /api/v1/ReservationList   the same lists
    GET      /api/v1/Transaction/{id}                with its meter values
    GET      /api/v1/IdTagList
    GET|PUT|DELETE /api/v1/IdTag/{idTag}
    GET      /api/v1/Onboarding/RefusedIdTags
    POST     /api/v1/Onboarding/RefusedIdTags/{idTag}/accept
    GET      /api/v1/Log                             identity, action, since, before

The lists' filters come from the query (GET), or from a JSON body (POST, as
the original's clients send them; an empty body uses the query).
"""

from __future__ import annotations

from typing import Any

from twisted.web.iweb import IRequest

from ocppcs.web import api_views as views
from ocppcs.web.api_base import PAGING, ApiBase, app
from ocppcs.web.http import (
    MAX_OFFSET,
    ApiError,
    check_members,
    int_arg,
    int_member,
    iso_time,
    json_body,
    page,
    parse_time,
    query_args,
    read_object,
    str_member,
)

_FILTERS = frozenset({"identity", "dateFrom", "dateTo"})

#: The statuses a stored id tag can have (OCPP 1.6 AuthorizationStatus, less ConcurrentTx).
ID_TAG_STATUSES = frozenset({"Accepted", "Blocked", "Expired", "Invalid"})

#: The longest id tag (OCPP 1.6 IdToken: CiString20).
MAX_ID_TAG = 20

#: The largest id SQLite stores.
MAX_ROW_ID = 2**63 - 1


def check_id_tag(id_tag: str) -> None:
    """@raise ApiError: 400 when C{id_tag} is not an OCPP 1.6 idTag."""
    if len(id_tag) > MAX_ID_TAG:
        raise ApiError(400, f"An idTag is at most {MAX_ID_TAG} characters")


class RecordRoutes(ApiBase):
    """Routes over stored records."""

    # --- transactions and reservations (the original's lists) --------------------------------

    def _filters(
        self, request: IRequest, extra: frozenset[str] = frozenset()
    ) -> tuple[dict[str, Any], int, int]:
        """
        C{identity}, C{date_from}, C{date_to} (and the C{extra} filters, by
        their names) and the page, from the query or the body.
        """
        body = None
        names = _FILTERS | extra
        if request.method == b"POST":
            body = read_object(request, self.config.api.max_body, required=False)
        if body is None:
            args, limit, offset = self.paged_args(request, names)
            raw: dict[str, Any] = dict(args)
        else:
            query_args(request, set())
            check_members(body, names | PAGING, set())
            page_size, max_page_size = self.config.api.page_size, self.config.api.max_page_size
            limit = int_member(body, "limit", page_size, 1, max_page_size)
            offset = int_member(body, "offset", 0, 0, MAX_OFFSET)
            raw = {name: str_member(body, name) for name in names}
        filters: dict[str, Any] = {"identity": raw.get("identity")}
        for name in extra:
            filters[name] = raw.get(name)
        for name, key in (("dateFrom", "date_from"), ("dateTo", "date_to")):
            text = raw.get(name)
            filters[key] = None if text is None else iso_time(parse_time(text, name))
        return filters, limit, offset

    @app.route("/v1/CentralSystem/TransactionList", methods=["GET", "POST"])
    async def transaction_list(self, request: IRequest) -> bytes:
        """
        Transactions, newest first, of one station or all, started in
        [dateFrom, dateTo), optionally of one C{idTag}.
        """
        return await self._transaction_list(request)

    @app.route("/v1/TransactionList", methods=["GET", "POST"])
    async def short_transaction_list(self, request: IRequest) -> bytes:
        """The same list at the short path, beside C{/v1/ChargePointList}."""
        return await self._transaction_list(request)

    @app.route("/v1/CentralSystem/ReservationList", methods=["GET", "POST"])
    async def reservation_list(self, request: IRequest) -> bytes:
        """Reservations, newest first, of one station or all, made in [dateFrom, dateTo)."""
        return await self._reservation_list(request)

    @app.route("/v1/ReservationList", methods=["GET", "POST"])
    async def short_reservation_list(self, request: IRequest) -> bytes:
        """The same list at the short path, beside C{/v1/ChargePointList}."""
        return await self._reservation_list(request)

    async def _transaction_list(self, request: IRequest) -> bytes:
        f, limit, offset = self._filters(request, frozenset({"idTag"}))
        total, rows = await self.store().transaction_page(
            f["identity"], f["date_from"], f["date_to"], limit, offset, id_tag=f["idTag"]
        )
        items = [views.transaction(row) for row in rows]
        return json_body(request, page("TransactionList", items, total, limit, offset))

    async def _reservation_list(self, request: IRequest) -> bytes:
        f, limit, offset = self._filters(request)
        total, rows = await self.store().reservation_page(
            f["identity"], f["date_from"], f["date_to"], limit, offset
        )
        items = [views.reservation(row) for row in rows]
        return json_body(request, page("ReservationList", items, total, limit, offset))

    @app.route("/v1/Transaction/<transaction_id>", methods=["GET"])
    async def get_transaction(self, request: IRequest, transaction_id: str) -> bytes:
        """One transaction with its meter values."""
        query_args(request, set())
        try:
            number = int(transaction_id)
        except ValueError:
            raise ApiError(400, "A transaction id is an integer") from None
        row = None
        if 0 < number <= MAX_ROW_ID:
            row = await self.store().transaction_detail(number)
        if row is None:
            raise ApiError(404, f"Transaction {transaction_id} not found")
        return json_body(request, views.transaction(row))

    # --- id tags -------------------------------------------------------------------------------

    @app.route("/v1/IdTagList", methods=["GET"])
    async def id_tag_list(self, request: IRequest) -> bytes:
        """The id tags (for C{authorization = list}), by tag; optionally of one status."""
        args, limit, offset = self.paged_args(request, frozenset({"status"}))
        status = args.get("status")
        if status is not None and status not in ID_TAG_STATUSES:
            raise ApiError(400, f"status must be one of {', '.join(sorted(ID_TAG_STATUSES))}")
        total, rows = await self.store().id_tag_page(status, limit, offset)
        items = [views.id_tag(row) for row in rows]
        return json_body(request, page("IdTagList", items, total, limit, offset))

    @app.route("/v1/IdTag/<id_tag>", methods=["GET"])
    async def get_id_tag(self, request: IRequest, id_tag: str) -> bytes:
        """One id tag."""
        query_args(request, set())
        row = await self.store().get_id_tag(id_tag)
        if row is None:
            raise ApiError(404, f"IdTag '{id_tag}' not found")
        return json_body(request, views.id_tag(row))

    @app.route("/v1/IdTag/<id_tag>", methods=["PUT"])
    async def put_id_tag(self, request: IRequest, id_tag: str) -> bytes:
        """Create or replace an id tag: C{{status, expiryDate?, parentIdTag?}}."""
        query_args(request, set())
        check_id_tag(id_tag)
        body = read_object(request, self.config.api.max_body)
        assert body is not None
        check_members(body, {"status", "expiryDate", "parentIdTag"}, {"status"})
        status = str_member(body, "status", nullable=False)
        if status not in ID_TAG_STATUSES:
            raise ApiError(400, f"status must be one of {', '.join(sorted(ID_TAG_STATUSES))}")
        expiry = str_member(body, "expiryDate")
        if expiry is not None:
            expiry = iso_time(parse_time(expiry, "expiryDate"))
        parent = str_member(body, "parentIdTag", MAX_ID_TAG)
        store = self.rules()
        await store.put_id_tag(id_tag, status, expiry, parent)
        return json_body(request, views.id_tag(await store.get_id_tag(id_tag)))

    @app.route("/v1/IdTag/<id_tag>", methods=["DELETE"])
    async def delete_id_tag(self, request: IRequest, id_tag: str) -> bytes:
        """Delete an id tag: 204, or 404."""
        query_args(request, set())
        if not await self.rules().delete_id_tag(id_tag):
            raise ApiError(404, f"IdTag '{id_tag}' not found")
        request.setResponseCode(204)
        return b""

    @app.route("/v1/Onboarding/RefusedIdTags", methods=["GET"])
    async def refused_id_tags(self, request: IRequest) -> bytes:
        """Id tags refused to an Authorize or StartTransaction, most recent first."""
        _, limit, offset = self.paged_args(request)
        total, rows = await self.store().refused_id_tag_page(limit, offset)
        items = [views.refused_id_tag(row) for row in rows]
        return json_body(request, page("RefusedIdTags", items, total, limit, offset))

    @app.route("/v1/Onboarding/RefusedIdTags/<id_tag>/accept", methods=["POST"])
    async def accept_refused_id_tag(self, request: IRequest, id_tag: str) -> bytes:
        """Make a refused tag Accepted (no expiry); 404 when it is not on the refused list."""
        query_args(request, set())
        read_object(request, self.config.api.max_body, required=False)
        row = await self.rules().accept_refused_id_tag(id_tag)
        if row is None:
            raise ApiError(404, f"IdTag '{id_tag}' is not on the refused list")
        return json_body(request, views.id_tag(row))

    # --- the frame log -------------------------------------------------------------------------

    @app.route("/v1/Log", methods=["GET"])
    async def log(self, request: IRequest) -> bytes:
        """
        The frame log, newest first: C{limit} and C{offset}, or the cursor
        C{before} (an id: only older frames; the answer's C{nextCursor}).
        """
        args, limit, offset = self.paged_args(
            request, frozenset({"identity", "action", "since", "before"})
        )
        since = args.get("since")
        since_ts = None if since is None else parse_time(since, "since").timestamp()
        before = int_arg(args, "before", 0, 1, MAX_ROW_ID) if "before" in args else None
        rows = await self.store().frame_page(
            args.get("identity"), args.get("action"), since_ts, before, limit + 1, offset
        )
        more = len(rows) > limit
        frames = [views.frame(row) for row in rows[:limit]]
        body = page("Log", frames, None, limit, offset, more)
        body["nextCursor"] = frames[-1]["id"] if more and frames else None
        return json_body(request, body)
