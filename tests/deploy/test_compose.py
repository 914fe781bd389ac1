"""docker-compose.yml, the Dockerfiles and deploy/nginx.conf agree with each other and with
HyperSend's settings (Docker cannot run here; these files are checked as data)."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from hypersend.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def nginx_conf() -> str:
    return (ROOT / "deploy" / "nginx.conf").read_text()


def test_the_stack_has_every_service_and_declares_its_volumes() -> None:
    stack = compose()
    services = stack["services"]
    assert set(services) == {
        "server-1",
        "server-2",
        "redis",
        "app",
        "postgres",
        "mongo",
        "minio",
        "minio-bucket",
        "nginx",
    }
    used = {
        volume.split(":")[0]
        for service in services.values()
        for volume in service.get("volumes", [])
        if not volume.startswith(".")
    }
    assert used == set(stack["volumes"])
    assert all(
        service["restart"] == "unless-stopped"
        for name, service in services.items()
        if name != "minio-bucket"  # a one-shot job
    )


@pytest.mark.parametrize("name", ["server-1", "server-2"])
def test_each_server_replica_shares_postgresql_redis_and_the_files_volume(name: str) -> None:
    server = compose()["services"][name]
    environment = server["environment"]
    setting_names = {name.upper() for name in Settings.model_fields}
    assert set(environment) <= setting_names, set(environment) - setting_names
    assert environment["DATABASE_URL"].startswith("${DATABASE_URL:-postgresql://hypersend:")
    assert environment["DATABASE_URL"].endswith("@postgres:5432/hypersend}")
    assert environment["REDIS_URL"] == "redis://redis:6379/0"
    assert environment["RELAY_LINK_HOST"] == server["hostname"] == name
    assert environment["PUBLIC_URL"].endswith("/api")
    assert f"hypersend-data:{environment['DATA_ROOT']}" in server["volumes"]
    assert server["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert server["depends_on"]["redis"]["condition"] == "service_healthy"
    assert f"server {name}:{environment['PORT']};" in nginx_conf()
    assert "hash $hypersend_route consistent;" in nginx_conf()

    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f'VOLUME ["{environment["DATA_ROOT"]}"]' in dockerfile
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.MULTILINE)
    assert "HEALTHCHECK" in dockerfile
    assert '".[postgresql,mongodb]"' in dockerfile


def test_postgresql_is_the_store_and_mongodb_a_profile() -> None:
    services = compose()["services"]
    postgres = services["postgres"]
    assert "pg_isready" in postgres["healthcheck"]["test"]
    assert "postgres-data:/var/lib/postgresql/data" in postgres["volumes"]
    assert postgres["environment"]["POSTGRES_USER"] == "hypersend"
    assert postgres["environment"]["POSTGRES_DB"] == "hypersend"
    assert "profiles" not in postgres
    mongo = services["mongo"]
    assert mongo["profiles"] == ["mongodb"]
    assert "mongosh" in mongo["healthcheck"]["test"]
    assert "mongo-data:/data/db" in mongo["volumes"]


def test_a_bucket_is_a_profile_made_from_the_settings_the_servers_read() -> None:
    services = compose()["services"]
    minio, making = services["minio"], services["minio-bucket"]
    assert minio["profiles"] == making["profiles"] == ["bucket"]
    assert "minio-data:/data" in minio["volumes"]
    assert minio["environment"]["MINIO_ROOT_USER"].startswith("${AWS_ACCESS_KEY_ID")
    assert making["environment"]["S3_BUCKET"].startswith("${S3_BUCKET")
    assert 'mc mb --ignore-existing "local/$$S3_BUCKET"' in making["entrypoint"][-1]
    setting_names = {name.upper() for name in Settings.model_fields}
    assert {"S3_BUCKET", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= setting_names


def test_the_app_serves_the_web_version_where_nginx_expects_it() -> None:
    app = compose()["services"]["app"]
    assert app["build"]["dockerfile"] == "Dockerfile.app"
    assert app["environment"]["API_URL"].endswith("/api")
    dockerfile = (ROOT / "Dockerfile.app").read_text()
    assert "EXPOSE 8550" in dockerfile
    assert '"--web"' in dockerfile
    assert re.search(r"^USER (?!root)\w+", dockerfile, re.MULTILINE)
    assert "server app:8550;" in nginx_conf()


def test_nginx_gets_the_projects_config_and_certificates() -> None:
    nginx = compose()["services"]["nginx"]
    assert set(nginx["ports"]) == {"80:80", "443:443"}
    assert "./deploy/nginx.conf:/etc/nginx/conf.d/default.conf:ro" in nginx["volumes"]
    assert "./deploy/certs:/etc/nginx/certs:ro" in nginx["volumes"]
    config = nginx_conf()
    for directive in (
        "client_max_body_size 0;",
        "proxy_request_buffering off;",
        "ssl_certificate     /etc/nginx/certs/fullchain.pem;",
        "proxy_set_header Upgrade $http_upgrade;",
        "return 301 https://",
    ):
        assert directive in config


def test_env_example_names_what_compose_needs() -> None:
    example = (ROOT / ".env.example").read_text()
    needed = set(re.findall(r"\$\{(\w+)", (ROOT / "docker-compose.yml").read_text()))
    for name in needed:
        assert re.search(rf"^{name}=", example, re.MULTILINE), name
