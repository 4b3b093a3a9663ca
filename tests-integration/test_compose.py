"""compose.yaml is correct, not decorative: valid YAML, the structure Compose accepts (a schema of
the subset we use), and ports and credentials that match what the tests read."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent

PORT = {"type": "string", "pattern": r"^127\.0\.0\.1:\d{2,5}:\d{2,5}$"}
SERVICE = {
    "type": "object",
    "required": ["image"],
    "additionalProperties": False,
    "properties": {
        "image": {"type": "string", "pattern": r"^[a-z0-9./_-]+:[\w.-]+$"},
        "command": {"type": ["string", "array"]},
        "ports": {"type": "array", "items": PORT, "minItems": 1},
        "environment": {"type": "object", "additionalProperties": {"type": ["string", "number"]}},
        "configs": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["source", "target"],
                "properties": {"source": {"type": "string"}, "target": {"type": "string"}},
            },
        },
        "healthcheck": {
            "type": "object",
            "required": ["test"],
            "properties": {
                "test": {"type": "array", "items": {"type": "string"}, "minItems": 2},
                "interval": {"type": "string", "pattern": r"^\d+s$"},
                "retries": {"type": "integer"},
            },
        },
    },
}
SCHEMA = {
    "type": "object",
    "required": ["services"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "services": {"type": "object", "additionalProperties": SERVICE},
        "configs": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {"content": {"type": "string"}, "file": {"type": "string"}},
            },
        },
    },
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((REPO / "compose.yaml").read_text())
    return data


def test_compose_matches_the_schema(compose: dict[str, Any]) -> None:
    jsonschema.validate(compose, SCHEMA)


def test_every_config_a_service_uses_is_defined(compose: dict[str, Any]) -> None:
    for service in compose["services"].values():
        for config in service.get("configs", []):
            assert config["source"] in compose["configs"]


def test_services_are_where_the_tests_look_for_them(compose: dict[str, Any]) -> None:
    host_ports = {
        name: [int(port.split(":")[1]) for port in service["ports"]]
        for name, service in compose["services"].items()
    }
    assert host_ports == {"s3": [18333], "mongo": [17017], "swift": [18080], "postgres": [15432]}
    readme = (REPO / "README.md").read_text()
    variables = (
        "FS_TEST_S3_ENDPOINT=http://127.0.0.1:18333",
        "FS_TEST_MONGO_URL=mongodb://127.0.0.1:17017",
        "FS_TEST_SWIFT_AUTHURL=http://127.0.0.1:18080/auth/v1.0",
        "FS_TEST_POSTGRES_URL=postgresql://postgres@127.0.0.1:15432/test",
    )
    for variable in variables:
        assert variable in readme


def test_s3_credentials_are_the_tests_defaults(compose: dict[str, Any]) -> None:
    content = compose["configs"]["seaweed_s3"]["content"]
    assert re.search(r'"accessKey": "seaweedtest"', content)
    assert re.search(r'"secretKey": "seaweedsecret"', content)
