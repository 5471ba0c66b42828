#!/bin/bash
# Starts a one-node Slurm cluster on this Debian 12 machine (as root), runs a tiny-profile 3-shard array of the
# reconstruction experiment and its merge job, and checks the merged CSV against an unsharded run.
#   apt-get install -y slurm-wlm munge      (Debian 12: Slurm 22.05)
#   dotnet build Abba.sln -c Release && deploy/slurm/local-cluster.sh
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
dll="$repo/Abba.Experiments/bin/Release/net10.0/abba.dll"
work=${WORK:-/tmp/abba-slurm}
shards=3
[ -f "$dll" ] || { echo "build first: dotnet build Abba.sln -c Release" >&2; exit 2; }
command -v slurmctld >/dev/null || { echo "install Slurm first: apt-get install -y slurm-wlm munge" >&2; exit 2; }
host=$(hostname -s)
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))

mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge "$work"
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=abba
SlurmctldHost=$host
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmUser=root
SlurmdUser=root
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

[ -f /etc/munge/munge.key ] || { mkdir -p /etc/munge; dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null; }
chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
chmod 400 /etc/munge/munge.key
pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged
pgrep -x slurmctld >/dev/null || slurmctld
pgrep -x slurmd >/dev/null || slurmd
for _ in $(seq 30); do sinfo -h -o %T 2>/dev/null | grep -qE 'idle|mix|alloc' && break; sleep 1; done
sinfo

rm -rf "$work/sharded" "$work/plain"
export ABBA="dotnet $dll" EXPERIMENT=reconstruction PROFILE=tiny SHARDS=$shards OUT="$work/sharded"
cd "$work"
jobid=$(sbatch --parsable --array=0-$((shards - 1)) --export=ALL "$repo/deploy/slurm/shard.sbatch")
merge=$(sbatch --parsable --dependency=afterok:$jobid --export=ALL "$repo/deploy/slurm/merge.sbatch")
echo "array job $jobid ($shards shards), merge job $merge"
while squeue -h -j "$jobid,$merge" 2>/dev/null | grep -q .; do sleep 2; done
cat "abba-merge-$merge.out"

dotnet "$dll" run reconstruction --profile tiny --out "$work/plain" >/dev/null
# fit_seconds (the last column) is a timing: compare everything else.
if diff <(cut -d, -f1-13 "$work/plain/tiny/reconstruction/reconstruction.csv") \
        <(cut -d, -f1-13 "$work/sharded/tiny/reconstruction/reconstruction.csv"); then
  echo "OK: the merged CSV of $shards Slurm shards equals the unsharded run's (outside fit_seconds)"
else
  echo "MISMATCH between the merged and the unsharded CSV" >&2; exit 1
fi
