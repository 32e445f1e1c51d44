"""The Kubernetes manifests, the Slurm scripts and the Dockerfile carry what matters.

No cluster or Docker engine runs here: the manifests are rendered with the
project's own render.sh and parsed, and the shard command of the Indexed Job
is executed by a shell with a stand-in `grade` to prove that the completion
index reaches --shard.
"""
from __future__ import annotations

import os
import subprocess

import pytest

from conftest import ROOT

yaml = pytest.importorskip("yaml")
K8S = ROOT / "deploy" / "k8s"


def render(name: str, image: str = "registry.example/nn-grader:1", shards: int = 5, parallel: int = 3) -> dict:
    text = subprocess.run(["bash", str(K8S / "render.sh"), str(K8S / name), image, str(shards), str(parallel)],
                          capture_output=True, text=True, check=True).stdout
    return yaml.safe_load(text)


def run_container_command(container: dict, env: dict, tmp_path) -> list[str]:
    """Run the container's command with a `grade` that prints its arguments, one per line."""
    fake = tmp_path / "bin"
    fake.mkdir(exist_ok=True)
    (fake / "grade").write_text('#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n')
    (fake / "grade").chmod(0o755)
    cmd = container["command"] + container["args"]
    out = subprocess.run(cmd, env={**env, "PATH": f"{fake}:/usr/bin:/bin"}, capture_output=True, text=True,
                         check=True).stdout
    return out.splitlines()


def test_indexed_job_passes_the_completion_index_as_shard(tmp_path):
    job = render("grade-shards.yaml", shards=5, parallel=3)
    spec = job["spec"]
    assert job["kind"] == "Job" and spec["completionMode"] == "Indexed"
    assert spec["completions"] == 5 and spec["parallelism"] == 3
    container = spec["template"]["spec"]["containers"][0]
    assert container["image"] == "registry.example/nn-grader:1"
    for index in (0, 4):
        argv = run_container_command(container, {"JOB_COMPLETION_INDEX": str(index)}, tmp_path)
        assert argv[:2] == ["batch", "/data/submissions"]
        assert argv[argv.index("--shard") + 1] == f"{index}/5"
        assert argv[argv.index("-o") + 1] == f"/data/out/shard-{index}"


def test_shard_pods_have_resources_and_the_sandbox_security_settings():
    container = render("grade-shards.yaml")["spec"]["template"]["spec"]["containers"][0]
    resources = container["resources"]
    assert resources["requests"]["cpu"] == resources["limits"]["cpu"]
    assert resources["limits"]["memory"]
    ctx = container["securityContext"]
    assert ctx["runAsUser"] == 0 and ctx["allowPrivilegeEscalation"] is False
    assert "SYS_ADMIN" in ctx["capabilities"]["add"] and ctx["capabilities"]["drop"] == ["ALL"]
    assert ctx["seccompProfile"]["type"] == "Unconfined"
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert "/data" in mounts


def test_merge_job_reads_every_shard_without_sandbox_privileges(tmp_path):
    job = render("merge.yaml")
    container = job["spec"]["template"]["spec"]["containers"][0]
    ctx = container["securityContext"]
    assert ctx["allowPrivilegeEscalation"] is False and "SYS_ADMIN" not in ctx["capabilities"].get("add", [])
    assert "seccompProfile" not in ctx  # the runtime's default profile: no sandbox runs here
    data = tmp_path / "data" / "out"
    for i in range(3):
        (data / f"shard-{i}").mkdir(parents=True)
    cmd = " ".join(container["args"]).replace("/data/", f"{tmp_path}/data/")
    argv = run_container_command({"command": container["command"], "args": [cmd]}, {}, tmp_path)
    assert argv[0] == "merge" and argv[-2:] == ["-o", f"{tmp_path}/data/out/final"]
    assert sorted(argv[1:4]) == [f"{data}/shard-{i}" for i in range(3)]


def test_volume_is_shared_between_pods():
    claim = render("volume.yaml")
    assert claim["kind"] == "PersistentVolumeClaim" and claim["spec"]["accessModes"] == ["ReadWriteMany"]


def test_slurm_array_script_maps_the_task_id_to_the_shard(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "grade").write_text('#!/bin/sh\nfor a in "$@"; do echo "$a"; done\n')
    (fake / "grade").chmod(0o755)
    env = {"PATH": f"{fake}:/usr/bin:/bin", "SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4",
           "SLURM_SUBMIT_DIR": str(tmp_path), "SLURM_CPUS_PER_TASK": "3"}
    out = subprocess.run(["bash", str(ROOT / "deploy" / "slurm" / "grade-array.sbatch"), "SUBS", "OUTROOT",
                          "--layout", "moodle"], env=env, capture_output=True, text=True, check=True).stdout.split()
    assert out == ["batch", "SUBS", "-o", "OUTROOT/shard-2", "--shard", "2/4", "--jobs", "3", "--layout", "moodle"]
    script = (ROOT / "deploy" / "slurm" / "submit.sh").read_text()
    assert "--dependency=\"afterok:$ARRAY\"" in script and "%$PARALLEL" in script


def test_dockerfile_installs_cpu_torch_and_defaults_to_an_unprivileged_user():
    lines = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines[0].startswith("FROM python:3.11")
    torch = next(line for line in lines if "torch" in line and line.startswith("RUN pip"))
    assert "whl/cpu" in torch and "<2.14" in torch
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert any("chmod -R go-rwx" in line and "autograder_tests" in line for line in lines)
    assert os.access(ROOT / "deploy" / "k8s" / "run.sh", os.X_OK)
