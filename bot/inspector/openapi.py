"""The OpenAPI 3 document of the inspector's API, built from the same endpoint list that
registers the routes, so the two cannot disagree."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, TypeAdapter

from bot.inspector.api import Endpoint
from engine import JSON

API_PREFIX = "/inspector/api"
_PATH_PARAMETER = re.compile(r"{(\w+)}")
_ERROR_SCHEMA = {
    "type": "object",
    "properties": {"error": {"type": "string"}},
    "required": ["error"],
}


def _query_parameters(model: type[BaseModel]) -> list[JSON]:
    parameters: list[JSON] = []
    for name, field in model.model_fields.items():
        schema: dict[str, Any] = TypeAdapter(field.annotation or str).json_schema()
        schema.pop("title", None)
        parameters.append(
            {
                "name": name,
                "in": "query",
                "required": field.is_required(),
                "description": field.description or "",
                "schema": schema,
            }
        )
    return parameters


def _operation(endpoint: Endpoint, schemas: dict[str, JSON]) -> JSON:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in _PATH_PARAMETER.findall(endpoint.path)
    ]
    if endpoint.query is not None:
        parameters += _query_parameters(endpoint.query)
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    operation: JSON = {
        "operationId": endpoint.handler.__name__,
        "summary": endpoint.summary,
        "tags": [endpoint.tag],
        "parameters": parameters,
        "responses": {
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            "400": {"description": "A parameter is missing or wrong", "content": error},
            "401": {"description": "Missing or wrong token", "content": error},
            "404": {"description": "No such record visible here", "content": error},
        },
    }
    if endpoint.body is not None:
        schema = endpoint.body.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[endpoint.body.__name__] = schema
        operation["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"$ref": f"#/components/schemas/{endpoint.body.__name__}"}
                }
            },
        }
    return operation


def openapi_document(endpoints: Sequence[Endpoint]) -> JSON:
    schemas: dict[str, JSON] = {"Error": _ERROR_SCHEMA}
    paths: dict[str, JSON] = {}
    for endpoint in endpoints:
        paths.setdefault(API_PREFIX + endpoint.path, {})[endpoint.method.lower()] = _operation(
            endpoint, schemas
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Mnemo inspector",
            "version": "1",
            "description": "See and steer what each agent knows. Memory is read through the "
            "audience of a chosen conversation (workspace, kind, channel, user).",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas,
        },
        "paths": paths,
    }
