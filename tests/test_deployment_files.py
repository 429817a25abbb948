"""The Docker files stay valid and in step with the code, checked offline without a Docker engine.

- ``docker-compose.yml`` is validated against the Compose specification's JSON schema, which
  check-jsonschema ships as its builtin ``vendor.compose-spec`` (no download);
- every component of ``shared.processes.COMPONENTS`` is a compose service built from the one
  Dockerfile, started in the right order, with health checks;
- the Dockerfile's ``PYTHONPATH`` is the Makefile's ``PACKAGE_DIRS``, and the launcher baked into
  the image starts each component with the same command as ``make run``.
"""
import os
import re
import shlex
import subprocess
import sys
import textwrap

import pytest
import yaml

from shared.config import SERVICES
from shared.processes import COMPONENTS, ROOT

COMPOSE_FILE = os.path.join(ROOT, "docker-compose.yml")
DOCKERFILE = os.path.join(ROOT, "Dockerfile")
MAKEFILE = os.path.join(ROOT, "Makefile")
DOCKERIGNORE = os.path.join(ROOT, ".dockerignore")


# ---------------------------------------------------------------------------------------------
# Parsing helpers
# ---------------------------------------------------------------------------------------------

def compose():
    with open(COMPOSE_FILE) as f:
        return yaml.safe_load(f)


def dockerfile_instructions():
    """[(INSTRUCTION, arguments, heredoc bodies)] with continuations joined and comments dropped."""
    with open(DOCKERFILE) as f:
        lines = f.read().splitlines()
    instructions, i = [], 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        while line.endswith("\\") and i < len(lines):
            nxt = lines[i]
            i += 1
            if nxt.lstrip().startswith("#"):
                continue
            line = line[:-1] + " " + nxt.strip()
        keyword, _, arguments = line.strip().partition(" ")
        heredocs = {}
        for marker in re.findall(r"<<-?[\"']?(\w+)[\"']?", arguments):
            body = []
            while i < len(lines) and lines[i].strip() != marker:
                body.append(lines[i])
                i += 1
            i += 1  # the terminator
            heredocs[marker] = "\n".join(body) + "\n"
        instructions.append((keyword.upper(), arguments.strip(), heredocs))
    return instructions


def dockerfile_env():
    env = {}
    for keyword, arguments, _ in dockerfile_instructions():
        if keyword != "ENV":
            continue
        words = shlex.split(arguments)
        if words and "=" not in words[0]:          # legacy form: ENV KEY value
            env[words[0]] = " ".join(words[1:])
        else:
            env.update(word.split("=", 1) for word in words)
    return env


def dockerfile_workdir():
    workdirs = [arguments for keyword, arguments, _ in dockerfile_instructions() if keyword == "WORKDIR"]
    assert workdirs, "the Dockerfile sets no WORKDIR"
    return workdirs[-1]


def image_script(path):
    """The body of a file the Dockerfile writes into the image with a COPY heredoc."""
    for keyword, arguments, heredocs in dockerfile_instructions():
        if keyword == "COPY" and heredocs and arguments.split()[-1] == path:
            return next(iter(heredocs.values()))
    raise AssertionError(f"the Dockerfile does not create {path}")


def relative_to_image_root(directory):
    root = dockerfile_workdir().rstrip("/")
    assert directory == root or directory.startswith(root + "/"), directory
    return os.path.normpath(directory[len(root):].lstrip("/") or ".")


def makefile_package_dirs():
    """PACKAGE_DIRS of the Makefile, relative to the repository, with $(addprefix) expanded."""
    with open(MAKEFILE) as f:
        text = f.read().replace("\\\n", " ")
    match = re.search(r"^PACKAGE_DIRS\s*:?=(.*)$", text, re.MULTILINE)
    assert match, "the Makefile defines no PACKAGE_DIRS"
    value = re.sub(r"\$\(addprefix\s+([^,]+),([^)]*)\)",
                   lambda m: " ".join(m.group(1).strip() + w for w in m.group(2).split()),
                   match.group(1))
    leftover = value.replace("$(CURDIR)", "")
    assert "$(" not in leftover, f"unexpanded make function in PACKAGE_DIRS: {value}"
    return [os.path.normpath(word.replace("$(CURDIR)", "").lstrip("/") or ".") for word in value.split()]


def image_pythonpath():
    return [relative_to_image_root(entry) for entry in dockerfile_env()["PYTHONPATH"].split(":") if entry]


def host_pythonpath():
    """The image's PYTHONPATH, mapped onto this checkout."""
    return os.pathsep.join(os.path.join(ROOT, entry) for entry in image_pythonpath())


def depends(service):
    value = service.get("depends_on", {})
    if isinstance(value, list):   # short syntax: no conditions at all
        return {name: {} for name in value}
    return value


APP_SERVICES = sorted(COMPONENTS)


# ---------------------------------------------------------------------------------------------
# (a) docker-compose.yml against the Compose specification, offline
# ---------------------------------------------------------------------------------------------

def check_compose_schema(path):
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", path],
        capture_output=True, text=True, timeout=120)


def test_compose_file_is_valid_yaml():
    assert isinstance(compose()["services"], dict)


def test_compose_file_matches_the_compose_specification():
    result = check_compose_schema(COMPOSE_FILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_an_invalid_compose_file(tmp_path):
    """The check above really validates: a bad condition and an unknown key are caught."""
    bad = tmp_path / "docker-compose.yml"
    bad.write_text(textwrap.dedent("""\
        services:
          app:
            image: example
            depends_on:
              db: {condition: when_it_feels_like_it}
            healthcheck_please: true
        """))
    result = check_compose_schema(str(bad))
    assert result.returncode != 0
    assert "when_it_feels_like_it" in result.stdout and "healthcheck_please" in result.stdout


# ---------------------------------------------------------------------------------------------
# (b) every component, one image, start order, health checks
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", APP_SERVICES)
def test_every_component_runs_from_the_one_dockerfile(name):
    services = compose()["services"]
    assert name in services, f"{name} (shared/processes.py COMPONENTS) has no compose service"
    service = services[name]
    build = service.get("build")
    assert isinstance(build, dict), f"{name} is not built from the Dockerfile"
    assert os.path.normpath(os.path.join(ROOT, build.get("context", "."))) == ROOT
    assert os.path.normpath(os.path.join(ROOT, build.get("context", "."), build.get("dockerfile", "Dockerfile"))) == DOCKERFILE
    assert service["environment"]["COMPONENT"] == name
    assert "command" not in service and "entrypoint" not in service, \
        f"{name} must run the image's default command, which starts $COMPONENT"


def test_all_components_share_one_image():
    services = compose()["services"]
    images = {services[name].get("image") for name in APP_SERVICES + ["migrate"]}
    builds = {repr(services[name].get("build")) for name in APP_SERVICES + ["migrate"]}
    assert len(images) == 1 and None not in images
    assert len(builds) == 1


@pytest.mark.parametrize("name", SERVICES)
def test_services_wait_for_the_broker_and_the_migrations(name):
    dependencies = depends(compose()["services"][name])
    assert dependencies.get("rabbitmq", {}).get("condition") == "service_healthy"
    assert dependencies.get("migrate", {}).get("condition") == "service_completed_successfully"


def test_migrate_is_a_one_shot_after_postgres():
    migrate = compose()["services"]["migrate"]
    command = migrate["command"]
    command = shlex.split(command) if isinstance(command, str) else command
    assert command == ["python", "-m", "shared.migrations", "upgrade"]
    assert depends(migrate)["postgres"]["condition"] == "service_healthy"
    assert migrate.get("restart", "no") == "no", "a one-shot must not be restarted"


def test_gateway_publishes_8000_and_starts_after_every_service():
    gateway = compose()["services"]["gateway"]
    assert "8000:8000" in [str(port) for port in gateway["ports"]]
    assert str(gateway["environment"].get("GATEWAY_PORT", "8000")) == "8000"
    dependencies = depends(gateway)
    for name in SERVICES:
        assert dependencies.get(name, {}).get("condition") in ("service_started", "service_healthy"), name


@pytest.mark.parametrize("name", ["postgres", "rabbitmq", "gateway"])
def test_infrastructure_and_gateway_have_healthchecks(name):
    test = compose()["services"][name]["healthcheck"]["test"]
    assert isinstance(test, list) and test[0] in ("CMD", "CMD-SHELL") and len(test) > 1


def test_healthcheck_commands_are_the_expected_ones():
    services = compose()["services"]
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert services["rabbitmq"]["healthcheck"]["test"][1:] == ["rabbitmq-diagnostics", "-q", "ping"]
    gateway_check = " ".join(services["gateway"]["healthcheck"]["test"])
    assert "urllib" in gateway_check and ":8000/health" in gateway_check


def test_the_image_has_a_healthcheck_for_the_services():
    healthchecks = [arguments for keyword, arguments, _ in dockerfile_instructions() if keyword == "HEALTHCHECK"]
    assert len(healthchecks) == 1 and "CMD" in healthchecks[0]
    for name in SERVICES:
        assert "healthcheck" not in compose()["services"][name] or \
            not compose()["services"][name]["healthcheck"].get("disable"), name


def test_app_containers_reach_the_compose_infrastructure():
    services = compose()["services"]
    postgres_password = services["postgres"]["environment"]["POSTGRES_PASSWORD"]
    for name in APP_SERVICES + ["migrate"]:
        env = services[name]["environment"]
        assert env["AMQP_URI"] == "amqp://guest:guest@rabbitmq:5672/"
        assert env["DATABASE_URL"] == f"postgresql://postgres:{postgres_password}@postgres:5432/postgres"
        assert env["SMTP_HOST"] in services and str(env["SMTP_PORT"]) == "1025"
        assert env["PUBLIC_BASE_URL"] == "http://localhost:8000"


def test_infrastructure_images_and_volume():
    document = compose()
    services = document["services"]
    assert services["postgres"]["image"].split(":")[1].startswith("15")
    assert services["rabbitmq"]["image"] == "rabbitmq:3.13-management"
    assert services["mailpit"]["image"].startswith("axllent/mailpit")
    assert "8025:8025" in [str(port) for port in services["mailpit"]["ports"]]
    volume = services["postgres"]["volumes"][0].split(":")
    assert volume[1] == "/var/lib/postgresql/data" and volume[0] in document["volumes"]


# ---------------------------------------------------------------------------------------------
# (c) the Dockerfile and the Makefile agree; the image's launcher starts what `make run` starts
# ---------------------------------------------------------------------------------------------

def test_dockerfile_pythonpath_lists_the_makefile_package_dirs():
    assert makefile_package_dirs(), "PACKAGE_DIRS is empty"
    assert sorted(image_pythonpath()) == sorted(makefile_package_dirs())


def test_every_package_dir_exists_and_is_copied_into_the_image():
    copied = []
    for keyword, arguments, heredocs in dockerfile_instructions():
        if keyword == "COPY" and not heredocs:
            words = [w for w in arguments.split() if not w.startswith("--")]
            copied += [os.path.normpath(source) for source in words[:-1]]
    for directory in makefile_package_dirs():
        assert os.path.isdir(os.path.join(ROOT, directory)), directory
        if directory != ".":
            assert any(directory == c or directory.startswith(c + "/") for c in copied), \
                f"{directory} is on PYTHONPATH but not copied into the image"
    for module in ("shared", "gateway", "services"):
        assert module in copied


def test_dockerfile_basics():
    instructions = dockerfile_instructions()
    keywords = [keyword for keyword, _, _ in instructions]
    assert instructions[0][0] == "FROM" and instructions[0][1] == "python:3.11-slim"
    assert "requirements.txt" in " ".join(a for k, a, _ in instructions if k == "RUN")
    assert not any("requirements-dev" in a for k, a, _ in instructions if k in ("RUN", "COPY")), \
        "development requirements stay out of the image"
    users = [arguments for keyword, arguments, _ in instructions if keyword == "USER"]
    assert users and users[-1] not in ("root", "0"), "the image must not run as root"
    assert "ARG" in keywords and "COMPONENT" in dockerfile_env()
    assert keywords[-1] == "CMD"


def test_dockerignore_keeps_the_context_lean():
    with open(DOCKERIGNORE) as f:
        patterns = {line.strip() for line in f if line.strip() and not line.startswith("#")}
    for pattern in (".venv", ".git", ".run", "bench/results"):
        assert pattern in patterns or pattern.split("/")[0] in patterns, pattern
    assert any("__pycache__" in pattern for pattern in patterns)


def _run_launcher(component):
    """The image's launcher with this checkout on the image's PYTHONPATH; exec is replaced by a
    print, so it shows the command it would run."""
    script = image_script("/usr/local/bin/handoff-run")
    shim = ("import os, sys, json\n"
            "os.execv = lambda path, argv: (print(json.dumps(argv[1:])), sys.exit(0))\n"
            "exec(compile(sys.stdin.read(), 'handoff-run', 'exec'))\n")
    env = {**os.environ, "PYTHONPATH": host_pythonpath(), "COMPONENT": component}
    return subprocess.run([sys.executable, "-c", shim], input=script, capture_output=True,
                          text=True, env=env, cwd="/", timeout=60)


@pytest.mark.parametrize("name", APP_SERVICES)
def test_image_launcher_starts_the_component_like_make_run(name):
    import json
    result = _run_launcher(name)
    assert result.returncode == 0, result.stderr
    config, module = COMPONENTS[name]
    assert json.loads(result.stdout) == ["-m", "nameko", "run", "--config", config, module]


def test_image_launcher_refuses_an_unknown_component():
    result = _run_launcher("no-such-component")
    assert result.returncode != 0
    assert "COMPONENT must be one of" in result.stderr


def test_image_healthcheck_reports_an_unreachable_gateway():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]       # closed once the block ends: nothing listens there
    script = image_script("/usr/local/bin/handoff-healthcheck")
    env = {**os.environ, "PYTHONPATH": host_pythonpath(), "COMPONENT": "gateway", "GATEWAY_PORT": str(port)}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.returncode == 1 and "unhealthy" in result.stderr
