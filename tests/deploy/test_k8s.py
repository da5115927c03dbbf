"""deploy/k8s: each overlay renders (`kubectl kustomize`), every object is valid against its schema
(Kubernetes' own, strict; the CRDs' openAPIV3Schema, strict where they do not preserve unknown fields), and the
manifests keep their promises: probes, limits, graceful shutdown, non-root and read-only pods; Secrets only by
reference; every environment variable a Deployment sets is read by that service's settings class and every
secret setting is referenced; a PDB, a Service and a scaler per service; 3 RabbitMQ nodes and 3 PostgreSQL
instances with backups in production; NetworkPolicies that deny by default."""

from __future__ import annotations

import copy
import functools
import importlib
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from pydantic_settings import BaseSettings

from shared.settings import ServiceSettings
from shared.topology import Topology
from tests.deploy.tools import REPO, run

K8S = REPO / "deploy" / "k8s"
SCHEMAS = Path(__file__).with_name("schemas")
OVERLAYS = ("dev", "production")
PORTS = {"intake": 8001, "routing": 8002, "notify": 8003, "reporting": 8004, "web": 8005}
CONSUMERS = ("intake", "routing", "notify", "reporting")
BUILT_IN = {
    ("v1", "ConfigMap"): "configmap-v1",
    ("apps/v1", "Deployment"): "deployment-apps-v1",
    ("autoscaling/v2", "HorizontalPodAutoscaler"): "horizontalpodautoscaler-autoscaling-v2",
    ("networking.k8s.io/v1", "Ingress"): "ingress-networking-v1",
    ("batch/v1", "Job"): "job-batch-v1",
    ("v1", "Namespace"): "namespace-v1",
    ("networking.k8s.io/v1", "NetworkPolicy"): "networkpolicy-networking-v1",
    ("policy/v1", "PodDisruptionBudget"): "poddisruptionbudget-policy-v1",
    ("v1", "Service"): "service-v1",
    ("v1", "ServiceAccount"): "serviceaccount-v1",
}
CUSTOM = {
    ("keda.sh/v1alpha1", "ScaledObject"): "keda.sh_ScaledObject_v1alpha1",
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"): "rabbitmq.com_RabbitmqCluster_v1beta1",
    ("postgresql.cnpg.io/v1", "Cluster"): "postgresql.cnpg.io_Cluster_v1",
    ("postgresql.cnpg.io/v1", "ScheduledBackup"): "postgresql.cnpg.io_ScheduledBackup_v1",
}
SETTINGS_CLASSES = {
    "intake": "IntakeSettings",
    "routing": "RoutingSettings",
    "notify": "NotifySettings",
    "reporting": "ReportingSettings",
    "web": "WebSettings",
}
# Settings whose values are secrets: a Deployment must take each from a Secret, never as a literal value.
SECRET_SETTINGS = {
    "all": {"DATABASE_URL"},
    "intake": {"RABBITMQ_URL", "CHILD_DATA_KEYS", "DUPLICATE_HASH_KEY", "ZALO_OA_SECRET"},
    "routing": {"RABBITMQ_URL", "LINK_SECRET"},
    "notify": {"RABBITMQ_URL", "SMTP_PASSWORD", "ZALO_APP_SECRET", "ZALO_ACCESS_TOKEN", "ZALO_REFRESH_TOKEN"},
    "reporting": {"RABBITMQ_URL"},
    "web": {"WEB_SESSION_KEY", "WEB_SERVICE_TOKEN"},  # web never connects to the broker
}


@functools.cache
def rendered(overlay: str) -> tuple[dict[str, Any], ...]:
    text = run("kubectl", "kustomize", str(K8S / "overlays" / overlay))
    return tuple(doc for doc in yaml.safe_load_all(text) if doc)


def objects(overlay: str, kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in rendered(overlay) if o["kind"] == kind}


def strict(schema: Any) -> Any:
    """A CRD schema that refuses unknown fields (as kubectl's field validation does), except where it
    preserves them on purpose."""
    if isinstance(schema, dict):
        out = {k: strict(v) for k, v in schema.items()}
        if (
            "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    return schema


@functools.cache
def validator(api_version: str, kind: str) -> jsonschema.protocols.Validator:
    if (api_version, kind) in BUILT_IN:
        schema = json.loads((SCHEMAS / "kubernetes" / f"{BUILT_IN[api_version, kind]}.json").read_text())
        return jsonschema.Draft202012Validator(schema)
    schema = json.loads((SCHEMAS / "crds" / f"{CUSTOM[api_version, kind]}.json").read_text())
    schema.pop("x-source")
    schema = strict(schema)
    schema["properties"]["metadata"] = {"type": "object"}  # ObjectMeta: checked by the built-in schemas' rules
    return jsonschema.Draft7Validator(schema)


def settings_fields(service: str) -> set[str]:
    try:
        module = importlib.import_module(f"services.{service}.settings")
        cls: type[BaseSettings] = getattr(module, SETTINGS_CLASSES[service])
    except ModuleNotFoundError:  # the web service joins with its code; until then, the shared settings
        cls = ServiceSettings
    return {name.upper() for name in cls.model_fields}


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    (only,) = deployment["spec"]["template"]["spec"]["containers"]
    return only


# --- rendering and schemas --------------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_is_valid_against_its_schema(overlay):
    docs = rendered(overlay)
    assert len(docs) > 30
    unknown = {(d["apiVersion"], d["kind"]) for d in docs} - set(BUILT_IN) - set(CUSTOM)
    assert not unknown, f"no schema kept for {unknown}"
    for doc in docs:
        errors = sorted(validator(doc["apiVersion"], doc["kind"]).iter_errors(doc), key=lambda e: list(e.path))
        assert not errors, f"{doc['kind']}/{doc['metadata']['name']}: " + "; ".join(
            f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5]
        )
        assert doc["kind"] == "Namespace" or doc["metadata"]["namespace"] == "caunoi"


def test_the_strict_schemas_catch_a_misspelt_field():
    deployment = copy.deepcopy(objects("production", "Deployment")["intake"])
    container(deployment)["readinesProbe"] = container(deployment).pop("readinessProbe")
    assert not validator("apps/v1", "Deployment").is_valid(deployment)
    cluster = copy.deepcopy(objects("production", "Cluster")["caunoi-postgres"])
    cluster["spec"]["instance"] = cluster["spec"].pop("instances")
    assert not validator("postgresql.cnpg.io/v1", "Cluster").is_valid(cluster)
    scaled = copy.deepcopy(objects("production", "ScaledObject")["notify"])
    scaled["spec"]["maxReplicas"] = scaled["spec"].pop("maxReplicaCount")
    assert not validator("keda.sh/v1alpha1", "ScaledObject").is_valid(scaled)


def test_schema_sources_are_noted():
    notes = (SCHEMAS / "SOURCES.md").read_text(encoding="utf-8")
    for path in SCHEMAS.glob("*/*.json"):
        assert path.name in notes, f"{path.name} is not in schemas/SOURCES.md"
    for path in (SCHEMAS / "crds").glob("*.json"):
        assert json.loads(path.read_text())["x-source"].startswith("https://github.com/")


# --- the services -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_five_services_each_with_probes_limits_graceful_shutdown_non_root_and_read_only(overlay):
    deployments = objects(overlay, "Deployment")
    assert set(deployments) == set(PORTS)
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        main = container(deployment)
        assert main["args"] == [f"services.{name}", "serve", "--no-migrate"]
        assert main["ports"] == [{"name": "http", "containerPort": PORTS[name], "protocol": "TCP"}]
        assert main["startupProbe"]["httpGet"]["path"] == "/healthz"
        assert main["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert main["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert main["readinessProbe"]["timeoutSeconds"] >= 5  # /readyz pings the database, then the broker
        assert {"cpu", "memory"} <= set(main["resources"]["requests"]) and "memory" in main["resources"]["limits"]
        assert pod["terminationGracePeriodSeconds"] >= 20 + 15  # uvicorn's drain, then the consumer's batch
        assert main["lifecycle"]["preStop"]["exec"]["command"][0] == "sleep"
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] == 10001
        assert main["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }
        assert {"name": "tmp", "mountPath": "/tmp"} in main["volumeMounts"]  # noqa: S108 (an emptyDir)
        assert pod["automountServiceAccountToken"] is False
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/part-of"] == "caunoi"  # the NetworkPolicies select on it


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_env_var_is_a_setting_of_its_service_and_every_secret_setting_comes_from_a_secret(overlay):
    for name, deployment in objects(overlay, "Deployment").items():
        env = {e["name"]: e for e in container(deployment)["env"]}
        unknown = set(env) - settings_fields(name)
        assert not unknown, f"{name} sets variables its settings never read: {sorted(unknown)}"
        assert env["HTTP_PORT"]["value"] == str(PORTS[name]) and env["HTTP_HOST"]["value"] == "0.0.0.0"  # noqa: S104
        secret = SECRET_SETTINGS["all"] | SECRET_SETTINGS.get(name, set())
        for setting in secret:
            assert setting in env, f"{name} does not reference its secret {setting}"
            assert "value" not in env[setting] and "secretKeyRef" in env[setting]["valueFrom"], (name, setting)
        if name in CONSUMERS:  # each service logs in to the broker as its own user
            assert env["RABBITMQ_URL"]["valueFrom"]["secretKeyRef"]["name"] == f"caunoi-rabbitmq-{name}"
        else:
            assert "RABBITMQ_URL" not in env
    job = objects(overlay, "Job")["caunoi-migrate"]
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    job_env = {e["name"]: e for e in migrate["env"]}
    assert set(job_env) <= {n.upper() for n in ServiceSettings.model_fields}
    assert all("secretKeyRef" in job_env[s]["valueFrom"] for s in ("DATABASE_URL", "RABBITMQ_URL"))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_broker_users_job_sets_every_service_s_password_from_its_secret(overlay):
    job = objects(overlay, "Job")["caunoi-broker-users"]
    assert job["metadata"]["labels"]["app.kubernetes.io/component"] == "migration"  # before the rollout
    (users,) = job["spec"]["template"]["spec"]["containers"]
    assert users["args"] == ["scripts.broker_users", "apply", "--via", "http"]
    env = {e["name"]: e for e in users["env"]}
    secrets = {f"RABBITMQ_{s.upper()}_PASSWORD" for s in CONSUMERS} | {"BROKER_ADMIN_URL", "BROKER_MANAGEMENT_URL"}
    assert set(env) == secrets | {"BROKER_NAMESPACE"}
    assert all("secretKeyRef" in env[name]["valueFrom"] for name in secrets)
    for service in CONSUMERS:  # the same Secret holds the password the job sets and the URL the service uses
        ref = env[f"RABBITMQ_{service.upper()}_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": f"caunoi-rabbitmq-{service}", "key": "password"}


def test_cloudnative_pg_s_app_uri_is_a_database_url_the_services_accept():
    settings = ServiceSettings(database_url="postgresql://caunoi:secret@caunoi-postgres-rw.caunoi:5432/caunoi")
    assert settings.database_url == "postgresql+asyncpg://caunoi:secret@caunoi-postgres-rw.caunoi:5432/caunoi"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_secrets_only_by_reference(overlay):
    kinds = {o["kind"] for o in rendered(overlay)}
    assert "Secret" not in kinds
    for config in objects(overlay, "ConfigMap").values():
        assert not set(config.get("data", {})) & {"password", "uri", "url"}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_a_service_a_headless_service_and_a_disruption_budget_per_deployment(overlay):
    services = objects(overlay, "Service")
    budgets = objects(overlay, "PodDisruptionBudget")
    for name in PORTS:
        assert services[name]["spec"]["selector"] == {"app.kubernetes.io/name": name}
        assert services[name]["spec"]["ports"][0]["targetPort"] == "http"
        headless = services[f"{name}-pods"]["spec"]  # Prometheus finds each replica by it
        assert headless["clusterIP"] == "None" and headless["ports"][0]["port"] == PORTS[name]
        assert budgets[name]["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": name}
        assert budgets[name]["spec"]["maxUnavailable"] == 1


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ingress_routes_to_the_web_and_intake(overlay):
    (ingress,) = objects(overlay, "Ingress").values()
    backends = {
        (rule["host"], path["path"]): path["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert sorted(set(backends.values())) == ["intake", "web"]  # links in messages land on web
    assert ingress["spec"]["tls"][0]["secretName"] == "caunoi-tls"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_consumers_scale_on_their_queue_and_the_web_on_cpu(overlay):
    scaled = objects(overlay, "ScaledObject")
    assert set(scaled) == set(CONSUMERS)
    topology = Topology("caunoi")
    for name, scaler in scaled.items():
        assert scaler["spec"]["scaleTargetRef"] == {"name": name}
        (queue,) = [t for t in scaler["spec"]["triggers"] if t["type"] == "rabbitmq"]
        assert queue["metadata"]["queueName"] == topology.queue(name)
        assert queue["metadata"]["mode"] == "QueueLength"
        assert queue["metadata"]["hostFromEnv"] == "RABBITMQ_URL"
        env = {e["name"]: e for e in container(objects(overlay, "Deployment")[name])["env"]}
        assert env["BROKER_NAMESPACE"]["value"] == "caunoi"
    (hpa,) = objects(overlay, "HorizontalPodAutoscaler").values()
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"}


def test_production_runs_three_rabbitmq_nodes_and_three_postgresql_instances_with_backups():
    (rabbitmq,) = objects("production", "RabbitmqCluster").values()
    assert rabbitmq["spec"]["replicas"] == 3
    assert "default_queue_type = quorum" in rabbitmq["spec"]["rabbitmq"]["additionalConfig"]
    cluster = objects("production", "Cluster")["caunoi-postgres"]
    assert cluster["spec"]["instances"] == 3
    store = cluster["spec"]["backup"]["barmanObjectStore"]
    assert set(store["s3Credentials"]) == {"accessKeyId", "secretAccessKey"}
    assert all(set(ref) == {"name", "key"} for ref in store["s3Credentials"].values())  # by reference
    (nightly,) = objects("production", "ScheduledBackup").values()
    assert nightly["spec"]["cluster"] == {"name": "caunoi-postgres"}
    for deployment in objects("production", "Deployment").values():
        assert deployment["spec"]["replicas"] >= 2


def test_dev_is_one_of_everything_without_backups():
    assert objects("dev", "Cluster")["caunoi-postgres"]["spec"]["instances"] == 1
    assert "backup" not in objects("dev", "Cluster")["caunoi-postgres"]["spec"]
    assert objects("dev", "ScheduledBackup") == {}
    assert objects("dev", "RabbitmqCluster")["caunoi-rabbitmq"]["spec"]["replicas"] == 1


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_deny_by_default_and_open_only_the_database_broker_dns_and_ingress(overlay):
    policies = objects(overlay, "NetworkPolicy")
    deny = policies["caunoi-default-deny"]["spec"]
    assert deny["podSelector"] == {"matchLabels": {"app.kubernetes.io/part-of": "caunoi"}}
    assert deny["policyTypes"] == ["Ingress", "Egress"] and "ingress" not in deny and "egress" not in deny
    egress = policies["caunoi-to-database-broker-and-dns"]["spec"]["egress"]
    ports = sorted(p["port"] for rule in egress for p in rule["ports"])
    assert ports == [53, 53, 5432, 5672]
    management = policies["broker-users-to-management"]["spec"]["egress"][0]["ports"]
    assert management == [{"port": 15672, "protocol": "TCP"}]
    from_ingress = policies["caunoi-from-ingress"]["spec"]["podSelector"]["matchExpressions"][0]["values"]
    assert sorted(from_ingress) == ["intake", "web"]
    web = policies["web-to-apis"]["spec"]["egress"][0]["to"][0]["podSelector"]["matchExpressions"][0]["values"]
    assert sorted(web) == ["intake", "notify", "reporting", "routing"]  # notify: the operator's delivery log
    external = [
        name
        for name, p in policies.items()
        if any("ipBlock" in t for r in p["spec"].get("egress", []) for t in r["to"])
    ]
    assert external == ["notify-to-smtp-and-zalo"]


def test_the_migration_job_runs_the_migrate_and_seed_script_of_the_image():
    job = objects("production", "Job")["caunoi-migrate"]
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    script = migrate["command"][-1]
    assert script == "/app/deploy/migrate-and-seed.sh" and (REPO / "deploy/migrate-and-seed.sh").exists()
    assert job["metadata"]["labels"]["app.kubernetes.io/component"] == "migration"  # applied first, alone
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
