"""The OpenAPI file and the reference agent describe the same routes, and the file's references resolve."""

from pathlib import Path
from typing import Any

import yaml

from platform_agent.app import make_app
from platform_agent.settings import AgentSettings

OPENAPI = Path(__file__).resolve().parents[3] / "docs" / "platform-contract.openapi.yaml"


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_every_route_of_the_agent_is_in_the_openapi_file_and_back(tmp_path: Path) -> None:
    document = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    documented = {
        (method.upper(), path.replace("{platform_chat_id}", "{chat_id}"))
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "post", "put", "delete")
    }
    app = make_app(AgentSettings(workspace_dir=tmp_path))
    served = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    assert document["openapi"] == "3.1.0"
    assert served == documented


def test_every_reference_in_the_openapi_file_resolves() -> None:
    document = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    refs = _refs(document)
    assert refs
    for ref in refs:
        assert _resolve(document, ref) is not None, ref
