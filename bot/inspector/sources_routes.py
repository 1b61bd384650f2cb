"""The documents an agent was taught (``mnemo sources``), read-only: each with its audience
and size, and one document's chunks with where each sits (section, page)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, Field

from bot.inspector.api import Endpoint, agent_of, fail, query_of, reply, services_of
from bot.inspector.views import fields_view
from engine import SourceDocument, cite_chunk

_DOCUMENT_FIELDS = ("id", "name", "title", "kind", "origin", "workspace", "scope", "size")
_SOURCE_FIELDS = ("chunks", "content_hash", "added_at", "updated_at")


class DocumentsQuery(BaseModel):
    workspace: str = Field(default="", description="Only this workspace's; empty for all.")


def document_view(document: SourceDocument) -> dict[str, object]:
    return fields_view(document, *_DOCUMENT_FIELDS, *_SOURCE_FIELDS)


async def list_documents(request: web.Request) -> web.Response:
    agent = await agent_of(request)
    workspace = query_of(request, DocumentsQuery).workspace or None
    documents = await services_of(request).stores.sources.documents(agent.id, workspace)
    return reply({"documents": [document_view(d) for d in documents]})


async def show_document(request: web.Request) -> web.Response:
    agent = await agent_of(request)
    sources = services_of(request).stores.sources
    document = await sources.document(request.match_info["document_id"])
    if document is None or document.agent_id != agent.id:
        fail(404, f"{agent.name} has no document {request.match_info['document_id']!r}")
    chunks = [
        {**fields_view(c, "id", "ordinal", "section", "page"), "citation": cite_chunk(c)}
        for c in await sources.chunks_of(document.id)
    ]
    return reply({"document": document_view(document), "chunks": chunks})


ENDPOINTS = (
    Endpoint(
        "GET",
        "/agents/{agent_id}/documents",
        list_documents,
        "The documents an agent was taught",
        "sources",
        DocumentsQuery,
    ),
    Endpoint(
        "GET",
        "/agents/{agent_id}/documents/{document_id}",
        show_document,
        "One document and where each of its chunks sits",
        "sources",
    ),
)
