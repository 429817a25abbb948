"""The Kubernetes manifests (deploy/kubernetes) stay valid and in step with the code, offline.

- ``kustomization.yaml`` is expanded here (resources, the scripts' configMapGenerator,
  namespace, labels, images: the only transformations it uses); where ``kubectl`` is on the
  PATH its built-in kustomize must render the very same documents;
- every document is validated against the Kubernetes OpenAPI-derived JSON schemas bundled in
  the ``kubernetes-validate`` package (no download, no cluster), strict: unknown fields fail;
- every component of ``shared.processes.COMPONENTS`` has a Deployment with probes, resources,
  a restricted security context, an HPA on CPU and a PodDisruptionBudget; every variable the
  components read comes from the ConfigMap or the Secret; the migration Job runs
  ``shared.migrations upgrade`` and the services wait for it.
"""
import copy
import glob
import importlib.util
import os
import re
import shutil
import subprocess
import sys

import kubernetes_validate
import pytest
import yaml

from shared.config import SERVICES
from shared.processes import COMPONENTS, ROOT

K8S_DIR = os.path.join(ROOT, "deploy", "kubernetes")
INFRA_DIR = os.path.join(K8S_DIR, "infrastructure")
# The oldest Kubernetes release the manifests promise to work on, and the newest bundled one.
KUBERNETES_VERSIONS = ["1.33", kubernetes_validate.latest_version()]
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PriorityClass", "StorageClass"}
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}


# ---------------------------------------------------------------------------------------------
# kustomize, the subset deploy/kubernetes uses
# ---------------------------------------------------------------------------------------------

def load_yaml_documents(path):
    with open(path) as f:
        return [doc for doc in yaml.safe_load_all(f) if doc]


def kustomization():
    with open(os.path.join(K8S_DIR, "kustomization.yaml")) as f:
        return yaml.safe_load(f)


def pod_templates(doc):
    if doc["kind"] in WORKLOADS:
        yield doc["spec"]["template"]


def containers_of(pod_spec):
    return list(pod_spec.get("initContainers", [])) + list(pod_spec["containers"])


def build():
    """The documents `kubectl apply -k deploy/kubernetes` sends, expanded in Python."""
    k = kustomization()
    known = {"apiVersion", "kind", "namespace", "labels", "images", "resources",
             "configMapGenerator", "generatorOptions"}
    assert set(k) <= known, f"kustomization uses {set(k) - known}: teach this test to expand it"
    docs = []
    for resource in k["resources"]:
        docs += load_yaml_documents(os.path.join(K8S_DIR, resource))
    assert k.get("generatorOptions", {}).get("disableNameSuffixHash") is True
    for generator in k.get("configMapGenerator", []):
        data = {}
        for entry in generator["files"]:
            with open(os.path.join(K8S_DIR, entry)) as f:
                data[os.path.basename(entry)] = f.read()
        docs.append({"apiVersion": "v1", "kind": "ConfigMap",
                     "metadata": {"name": generator["name"]}, "data": data})
    images = {image["name"]: f"{image['newName']}:{image['newTag']}" for image in k.get("images", [])}
    for doc in docs:
        meta = doc["metadata"]
        if doc["kind"] not in CLUSTER_SCOPED:
            meta["namespace"] = k["namespace"]
        for label_set in k.get("labels", []):
            assert not label_set.get("includeSelectors"), "selectors are written out in the manifests"
            meta.setdefault("labels", {}).update(label_set["pairs"])
            if label_set.get("includeTemplates"):
                for template in pod_templates(doc):
                    template.setdefault("metadata", {}).setdefault("labels", {}).update(label_set["pairs"])
        for template in pod_templates(doc):
            for container in containers_of(template["spec"]):
                if container["image"] in images:
                    container["image"] = images[container["image"]]
    return docs


DOCS = build()


def find(kind, name=None):
    found = [d for d in DOCS if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    return found


def one(kind, name):
    found = find(kind, name)
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def key(doc):
    return (doc["kind"], doc["metadata"].get("namespace"), doc["metadata"]["name"])


def component_image():
    image = kustomization()["images"][0]
    return f"{image['newName']}:{image['newTag']}"


# ---------------------------------------------------------------------------------------------
# (a) the schemas, offline and strict
# ---------------------------------------------------------------------------------------------

def test_kustomization_lists_every_manifest_file_but_the_optional_ones():
    listed = set(kustomization()["resources"])
    on_disk = {os.path.basename(p) for p in glob.glob(os.path.join(K8S_DIR, "*.yaml"))}
    optional = {"ingress.yaml", "kustomization.yaml"}
    assert on_disk - optional == listed, "a manifest is neither listed nor known to be optional"


def test_the_expansion_here_is_what_kustomize_renders():
    kubectl = shutil.which("kubectl")
    if not kubectl:
        pytest.skip("kubectl (with its built-in kustomize) is not installed")
    result = subprocess.run([kubectl, "kustomize", K8S_DIR], capture_output=True, text=True, timeout=120)
    if result.returncode != 0 and "unknown command" in result.stderr:
        pytest.skip("this kubectl has no kustomize")
    assert result.returncode == 0, result.stderr
    rendered = {key(d): d for d in yaml.safe_load_all(result.stdout) if d}
    ours = {key(d): d for d in DOCS}
    assert sorted(rendered) == sorted(ours)
    for k, doc in ours.items():
        assert rendered[k] == doc, f"{k} differs from kustomize's rendering"


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_document_matches_the_kubernetes_schema(version):
    documents = DOCS + load_yaml_documents(os.path.join(K8S_DIR, "ingress.yaml"))
    errors = []
    for doc in documents:
        try:
            validated = kubernetes_validate.validate(doc, version, strict=True)
            assert validated == kubernetes_validate.utils.major_minor(version)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(p) for p in exc.path)
            errors.append(f"{doc['kind']}/{doc['metadata']['name']}: {path}: {exc.message}")
        except kubernetes_validate.SchemaNotFoundError as exc:
            errors.append(exc.message)
    assert not errors, "\n".join(errors)


def test_the_schema_check_is_strict():
    """A misspelt field and a wrong type are caught: the check really validates."""
    deployment = copy.deepcopy(one("Deployment", "identity"))
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["livenessprobe"] = container.pop("livenessProbe")
    with pytest.raises(kubernetes_validate.ValidationError, match="livenessprobe"):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSIONS[0], strict=True)
    hpa = copy.deepcopy(one("HorizontalPodAutoscaler", "gateway"))
    hpa["spec"]["minReplicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(hpa, KUBERNETES_VERSIONS[0], strict=True)


def test_names_are_unique_and_everything_is_in_the_handoff_namespace():
    keys = [key(d) for d in DOCS]
    assert len(keys) == len(set(keys))
    for doc in DOCS:
        if doc["kind"] not in CLUSTER_SCOPED:
            assert doc["metadata"]["namespace"] == "handoff"
        assert doc["metadata"]["labels"]["app.kubernetes.io/part-of"] == "handoff"


# ---------------------------------------------------------------------------------------------
# (b) every component: Deployment, probes, resources, security, HPA, PDB
# ---------------------------------------------------------------------------------------------

def main_container(name):
    spec = one("Deployment", name)["spec"]["template"]["spec"]
    (container,) = [c for c in spec["containers"] if c["name"] == name]
    return container


def env_value(container, name):
    values = [e.get("value") for e in container.get("env", []) if e["name"] == name]
    return values[0] if values else None


def test_every_deployment_is_a_component():
    assert sorted(d["metadata"]["name"] for d in find("Deployment")) == sorted(COMPONENTS)


@pytest.mark.parametrize("name", sorted(COMPONENTS))
def test_component_deployment_runs_the_one_image_as_its_component(name):
    deployment = one("Deployment", name)
    spec = deployment["spec"]
    assert "replicas" not in spec, "the HorizontalPodAutoscaler owns the replica count"
    labels = spec["template"]["metadata"]["labels"]
    assert spec["selector"]["matchLabels"].items() <= labels.items()
    container = main_container(name)
    assert container["image"] == component_image()
    assert env_value(container, "COMPONENT") == name
    assert "command" not in container and "args" not in container, \
        "the image's default command (handoff-run) starts $COMPONENT"


@pytest.mark.parametrize("name", sorted(COMPONENTS))
def test_component_has_probes(name):
    container = main_container(name)
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert probe in container, f"{name} has no {probe}"
        if name == "gateway":
            assert container[probe]["httpGet"]["path"] == "/health"
            assert container[probe]["httpGet"]["port"] == "http"
        else:
            assert container[probe]["exec"]["command"] == ["handoff-healthcheck"]
            assert container[probe]["timeoutSeconds"] >= 10, "the exec probe starts Python and an RPC"
    if name == "gateway":
        assert container["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]
        assert str(one("ConfigMap", "handoff-config")["data"]["GATEWAY_PORT"]) == "8000"


def cpu(value):
    value = str(value)
    return float(value[:-1]) / 1000 if value.endswith("m") else float(value)


@pytest.mark.parametrize("name", sorted(COMPONENTS))
def test_component_has_resources(name):
    resources = main_container(name)["resources"]
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= set(resources[kind]), f"{name} {kind}"
    assert 0 < cpu(resources["requests"]["cpu"]) <= cpu(resources["limits"]["cpu"])


@pytest.mark.parametrize("name", sorted(COMPONENTS))
def test_component_runs_restricted(name):
    spec = one("Deployment", name)["spec"]["template"]["spec"]
    pod = spec["securityContext"]
    assert pod["runAsNonRoot"] is True and pod["runAsUser"] > 0
    assert pod["seccompProfile"]["type"] == "RuntimeDefault"
    assert spec["automountServiceAccountToken"] is False
    for container in containers_of(spec):
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False
        assert security["readOnlyRootFilesystem"] is True
        assert security["capabilities"]["drop"] == ["ALL"]
        assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert one("Namespace", "handoff")["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


@pytest.mark.parametrize("name", sorted(COMPONENTS))
def test_component_scales_on_cpu(name):
    hpas = [h for h in find("HorizontalPodAutoscaler") if h["spec"]["scaleTargetRef"]["name"] == name]
    assert len(hpas) == 1, f"{name} has no HorizontalPodAutoscaler"
    spec = hpas[0]["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
    assert 2 <= spec["minReplicas"] < spec["maxReplicas"]
    (metric,) = spec["metrics"]
    assert metric["type"] == "Resource" and metric["resource"]["name"] == "cpu"
    assert 0 < metric["resource"]["target"]["averageUtilization"] <= 100


@pytest.mark.parametrize("name", sorted(COMPONENTS))
def test_component_has_a_disruption_budget(name):
    labels = one("Deployment", name)["spec"]["template"]["metadata"]["labels"]
    budgets = [p for p in find("PodDisruptionBudget")
               if p["spec"]["selector"]["matchLabels"].items() <= labels.items()]
    assert len(budgets) == 1, f"{name} has no PodDisruptionBudget"
    assert budgets[0]["spec"].get("maxUnavailable") == 1


def test_gateway_service_routes_to_the_gateway_pods():
    service = one("Service", "gateway")
    labels = one("Deployment", "gateway")["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    (port,) = service["spec"]["ports"]
    assert port["targetPort"] == "http"
    ingress = load_yaml_documents(os.path.join(K8S_DIR, "ingress.yaml"))[0]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "gateway", "port": {"name": port["name"]}}


# ---------------------------------------------------------------------------------------------
# (c) configuration: every variable read comes from the ConfigMap or the Secret
# ---------------------------------------------------------------------------------------------

CONFIG_FILES = [os.path.join(ROOT, "services", s, "config.yml") for s in SERVICES] + \
    [os.path.join(ROOT, "gateway", "config.yml")]
SECRET_HINTS = ("PASSWORD", "SECRET", "KEY", "SID", "USERNAME", "DATABASE_URL", "AMQP_URI")


def variables_in_config_files():
    names = set()
    for path in CONFIG_FILES:
        with open(path) as f:
            names |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)(?::[^}]*)?\}", f.read()))
    return names


def variables_read_by_the_code():
    """os.environ.get("X") / os.environ["X"] / os.getenv("X") in the code that runs in the
    image (not tests, the test harness or the dev-stack launcher)."""
    names = set()
    skip = ("/tests/", "/testing/", "devstack.py", "processes.py", "/migrations/versions/")
    pattern = re.compile(r"""os\.(?:environ\.get\(|environ\[|getenv\()\s*["']([A-Z][A-Z0-9_]*)["']""")
    for top in ("shared", "gateway", "services"):
        for path in glob.glob(os.path.join(ROOT, top, "**", "*.py"), recursive=True):
            if any(s in path for s in skip):
                continue
            with open(path) as f:
                names |= set(pattern.findall(f.read()))
    return names


def config_keys():
    return set(one("ConfigMap", "handoff-config")["data"])


def secret_keys():
    return set(one("Secret", "handoff-secrets")["stringData"])


def test_config_files_are_parsed():
    found = variables_in_config_files()
    assert {"AMQP_URI", "DATABASE_URL", "SMTP_PASSWORD", "GATEWAY_PORT", "MAX_WORKERS"} <= found


@pytest.mark.parametrize("variable", sorted(variables_in_config_files() | variables_read_by_the_code()))
def test_every_variable_comes_from_the_configmap_or_the_secret(variable):
    assert variable in config_keys() | secret_keys(), \
        f"{variable} is read by a component but set in neither handoff-config nor handoff-secrets"


def test_secrets_stay_out_of_the_configmap_and_are_placeholders():
    assert not config_keys() & secret_keys()
    for name in config_keys():
        assert not any(hint in name for hint in SECRET_HINTS), f"{name} looks secret: put it in secret.yaml"
    for secret in find("Secret"):
        for name, value in secret["stringData"].items():
            assert "CHANGE-ME" in value or name == "RABBITMQ_MANAGEMENT_URL", \
                f"{secret['metadata']['name']}.{name} must be a clearly marked placeholder"
    for name in ("DATABASE_URL", "AMQP_URI", "SMTP_USERNAME", "SMTP_PASSWORD", "SMS_API_KEY",
                 "PAYMENTS_API_KEY", "PAYMENTS_WEBHOOK_SECRET"):
        assert name in secret_keys(), name


def test_every_handoff_container_reads_the_configmap_and_the_secret():
    for doc in DOCS:
        for template in pod_templates(doc):
            for container in containers_of(template["spec"]):
                if doc["metadata"]["name"] == "handoff-rabbitmq-setup":
                    continue  # only AMQP_URI and the broker's admin credentials
                sources = [next(iter(s.values()))["name"] for s in container["envFrom"]]
                assert sources == ["handoff-config", "handoff-secrets"], (doc["metadata"]["name"], container["name"])


def test_the_gateway_keeps_its_own_worker_count():
    assert env_value(main_container("gateway"), "MAX_WORKERS") == "50"
    assert "MAX_WORKERS" in config_keys()


# ---------------------------------------------------------------------------------------------
# (d) ordering: broker setup and migrations before the services
# ---------------------------------------------------------------------------------------------

def job(name):
    return one("Job", name)["spec"]["template"]["spec"]


def test_migration_job_runs_the_migrations():
    spec = job("handoff-migrate")
    (container,) = spec["containers"]
    assert container["command"] == ["python", "-m", "shared.migrations", "upgrade"]
    assert container["image"] == component_image()
    assert spec["restartPolicy"] in ("OnFailure", "Never")


def test_rabbitmq_setup_job_runs_the_setup_script():
    spec = job("handoff-rabbitmq-setup")
    (container,) = spec["containers"]
    assert container["command"] == ["python", "/scripts/rabbitmq_setup.py"]
    assert container["envFrom"] == [{"secretRef": {"name": "handoff-rabbitmq-admin"}}]
    (amqp,) = container["env"]
    assert amqp["valueFrom"]["secretKeyRef"] == {"name": "handoff-secrets", "key": "AMQP_URI"}


@pytest.mark.parametrize("name", sorted(COMPONENTS))
def test_components_wait_for_the_broker_setup_and_their_migrations(name):
    spec = one("Deployment", name)["spec"]["template"]["spec"]
    (init,) = spec["initContainers"]
    expected = ["python", "/scripts/wait_for_dependencies.py"] + ([] if name == "gateway" else [name])
    assert init["command"] == expected
    assert init["image"] == component_image()
    (volume,) = [v for v in spec["volumes"] if v["name"] == "scripts"]
    assert volume["configMap"]["name"] == "handoff-scripts"
    assert {"wait_for_dependencies.py", "rabbitmq_setup.py"} <= set(one("ConfigMap", "handoff-scripts")["data"])


def load_script(name):
    path = os.path.join(K8S_DIR, "scripts", name)
    spec = importlib.util.spec_from_file_location(name[:-3], path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_wait_script_reports_what_it_waits_for():
    """Offline: nothing listens on port 1, so the broker is 'not ready' and it gives up."""
    env = {**os.environ, "AMQP_URI": "amqp://guest:guest@127.0.0.1:1/handoff", "WAIT_TIMEOUT_SECONDS": "0",
           "PYTHONWARNINGS": "ignore"}
    result = subprocess.run([sys.executable, os.path.join(K8S_DIR, "scripts", "wait_for_dependencies.py")],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 1
    assert "gave up" in result.stderr and "broker not ready" in result.stderr


def test_rabbitmq_setup_targets_the_queues_nameko_declares():
    from nameko.rpc import RPC_REPLY_QUEUE_TEMPLATE
    from nameko.standalone.rpc import StandaloneProxyBase

    setup = load_script("rabbitmq_setup.py")
    assert setup.amqp_target("amqp://handoff:p%40ss@rabbit:5672/handoff") == ("handoff", "handoff", "p@ss")
    assert setup.amqp_target("amqp://guest:guest@rabbit:5672/")[0] == "/"
    retry = re.compile(setup.POLICIES["handoff-event-retry"]["pattern"])
    assert retry.search("evt-referrals-referral_list_sent--notify.on_referral_list_sent.retry")
    assert not retry.search("evt-referrals-referral_list_sent--notify.on_referral_list_sent")
    assert not retry.search("evt-referrals-referral_list_sent--notify.on_referral_list_sent.dead")
    with open(os.path.join(ROOT, "shared", "events.py")) as f:
        assert 'f"{self.queue.name}.retry"' in f.read(), "shared/events.py renamed the retry queues"
    probe_replies = re.compile(setup.POLICIES["handoff-probe-replies"]["pattern"])
    standalone = StandaloneProxyBase.ServiceContainer.service_name
    assert probe_replies.search(RPC_REPLY_QUEUE_TEMPLATE.format(standalone, "0b1f"))
    assert not probe_replies.search(RPC_REPLY_QUEUE_TEMPLATE.format("gateway", "0b1f"))


def test_the_amqp_uri_names_a_vhost_of_its_own():
    uri = one("Secret", "handoff-secrets")["stringData"]["AMQP_URI"]
    vhost = load_script("rabbitmq_setup.py").amqp_target(uri)[0]
    assert vhost not in ("/", ""), "use a vhost that only the rabbitmq-setup Job creates"


# ---------------------------------------------------------------------------------------------
# (e) the broker and database examples, and the operations guide
# ---------------------------------------------------------------------------------------------

def test_infrastructure_examples():
    (rabbit,) = load_yaml_documents(os.path.join(INFRA_DIR, "rabbitmq-cluster.yaml"))
    assert rabbit["kind"] == "RabbitmqCluster" and rabbit["spec"]["replicas"] == 3
    assert rabbit["spec"]["image"].startswith("rabbitmq:3.13")
    cluster, pooler = load_yaml_documents(os.path.join(INFRA_DIR, "postgres-cluster.yaml"))
    assert cluster["kind"] == "Cluster" and cluster["spec"]["instances"] >= 3
    assert "ALTER ROLE handoff CREATEDB" in cluster["spec"]["bootstrap"]["initdb"]["postInitSQL"]
    assert pooler["kind"] == "Pooler" and pooler["spec"]["pgbouncer"]["poolMode"] == "transaction"
    secret = one("Secret", "handoff-secrets")["stringData"]
    assert f"{cluster['metadata']['name']}-rw.{cluster['metadata']['namespace']}.svc" in secret["DATABASE_URL"]
    assert f"{rabbit['metadata']['name']}.{rabbit['metadata']['namespace']}.svc" in secret["AMQP_URI"]


def test_operations_guide_cites_real_metrics():
    with open(os.path.join(ROOT, "docs", "operations.md")) as f:
        guide = f.read()
    code = ""
    for path in (os.path.join(ROOT, "shared", "metrics.py"), os.path.join(ROOT, "gateway", "gateway", "metrics.py")):
        with open(path) as f:
            code += f.read()
    defined = set(re.findall(r'"(handoff_[a-z_]+)"', code))
    databases = {f"handoff_{service}" for service in SERVICES}
    cited = {re.sub(r"_(bucket|count|sum)$", "", name)
             for name in re.findall(r"\bhandoff_[a-z_]*[a-z]", guide)} - databases
    assert cited, "docs/operations.md cites no metric"
    assert cited <= defined, f"not defined in shared/metrics.py or gateway/gateway/metrics.py: {cited - defined}"
    assert "kubectl apply -k deploy/kubernetes" in guide
