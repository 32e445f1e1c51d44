"""deploy/slurm on a real single-node Slurm cluster: the shard array and the merge that waits for it.

The test starts munged (if none runs), slurmctld and slurmd on localhost with
a minimal slurm.conf of its own (its own ports and state folders), submits
deploy/slurm/submit.sh exactly as docs/deploy.md says, waits for the merge
job and compares grades.csv with an unsharded batch. It needs root (the
daemons) and Debian's slurmctld, slurmd, slurm-client and munge (.ci/run
installs them); elsewhere it says why and skips.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import MINI
from test_batch import make_dir_layout, run_grade

ROOT = Path(__file__).resolve().parent.parent
NEEDED = ("slurmctld", "slurmd", "sbatch", "squeue", "munged")

pytestmark = pytest.mark.slow


def _why_not() -> str:
    if os.geteuid() != 0:
        return "starting slurmctld/slurmd needs root"
    missing = [b for b in NEEDED if not shutil.which(b) and not Path("/usr/sbin", b).exists()]
    if missing:
        return f"Slurm is not installed ({', '.join(missing)} missing; apt-get install slurmctld slurmd slurm-client munge)"
    return ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ensure_munge() -> None:
    if subprocess.run(["pgrep", "-x", "munged"], capture_output=True).returncode == 0:
        return
    Path("/run/munge").mkdir(parents=True, exist_ok=True)
    shutil.chown("/run/munge", "munge", "munge")
    if not Path("/etc/munge/munge.key").exists():
        subprocess.run(["/usr/sbin/mungekey", "--create"], check=True)
        shutil.chown("/etc/munge/munge.key", "munge", "munge")
    subprocess.run(["su", "-s", "/bin/sh", "munge", "-c", "/usr/sbin/munged"], check=True)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    why = _why_not()
    if why:
        pytest.skip(why)
    _ensure_munge()
    base = tmp_path_factory.mktemp("slurm")
    for sub in ("state", "spool", "log"):
        (base / sub).mkdir()
    host = socket.gethostname().split(".")[0]
    conf = base / "slurm.conf"
    conf.write_text("\n".join([
        "ClusterName=gradetest", f"SlurmctldHost={host}", f"SlurmctldPort={_free_port()}",
        f"SlurmdPort={_free_port()}", "AuthType=auth/munge", "SlurmUser=root", "SlurmdUser=root",
        f"StateSaveLocation={base}/state", f"SlurmdSpoolDir={base}/spool",
        f"SlurmctldPidFile={base}/slurmctld.pid", f"SlurmdPidFile={base}/slurmd.pid",
        f"SlurmctldLogFile={base}/log/slurmctld.log", f"SlurmdLogFile={base}/log/slurmd.log",
        "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none", "SelectType=select/cons_tres",
        "SelectTypeParameters=CR_Core", "ReturnToService=2", "MpiDefault=none", "JobCompType=jobcomp/none",
        "AccountingStorageType=accounting_storage/none", "SlurmdParameters=config_overrides",
        # the scripts ask for 4 CPUs and 8G per shard: this node claims enough (config_overrides)
        f"NodeName={host} CPUs=8 RealMemory=32000 State=UNKNOWN",
        "PartitionName=grade Nodes=ALL Default=YES MaxTime=INFINITE State=UP", ""]))
    env = dict(os.environ, SLURM_CONF=str(conf))
    subprocess.run(["slurmctld", "-f", str(conf)], check=True, env=env)
    subprocess.run(["slurmd", "-f", str(conf)], check=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            out = subprocess.run(["sinfo", "-h", "-o", "%t"], env=env, capture_output=True, text=True).stdout
            if out.strip() in ("idle", "mix", "alloc"):
                break
            time.sleep(0.5)
        else:
            pytest.fail("the test cluster did not come up:\n" + (base / "log" / "slurmctld.log").read_text()[-2000:])
        yield env
    finally:
        for name in ("slurmd", "slurmctld"):
            pid_file = base / f"{name}.pid"
            if pid_file.exists():
                try:
                    os.kill(int(pid_file.read_text().strip()), 15)
                except (ProcessLookupError, ValueError):
                    pass


def test_array_and_merge_equal_an_unsharded_batch(cluster, tmp_path):
    subs = make_dir_layout(tmp_path)
    for i in range(6, 9):
        shutil.copytree(subs / "s001", subs / f"s{i:03d}")
    plain = tmp_path / "plain"
    assert run_grade(["batch", str(subs), "-o", str(plain), "--jobs", "2"]).returncode == 0
    outroot = tmp_path / "sharded"
    env = dict(cluster, GRADE_COURSE_ROOT=str(MINI),
               PATH=f"{Path(os.sys.executable).parent}:{cluster.get('PATH', '/usr/bin:/bin')}",
               PYTHONPATH=str(ROOT))
    proc = subprocess.run(["bash", str(ROOT / "deploy" / "slurm" / "submit.sh"), str(subs), str(outroot), "3", "2"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "merge: job" in proc.stdout
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        queue = subprocess.run(["squeue", "-h"], env=env, capture_output=True, text=True).stdout
        if not queue.strip():
            break
        time.sleep(2)
    logs = "\n".join(p.read_text(errors="replace")[-1500:] for p in tmp_path.glob("grade-*.log"))
    assert (outroot / "final" / "grades.csv").is_file(), "the merge job produced no grades.csv:\n" + logs
    assert sorted(p.name for p in outroot.iterdir() if p.name.startswith("shard-")) == \
        ["shard-0", "shard-1", "shard-2"]
    assert (outroot / "final" / "grades.csv").read_bytes() == (plain / "grades.csv").read_bytes()
