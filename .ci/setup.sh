#!/usr/bin/env bash
# All set-up on a fresh Debian machine with Python 3.11 (run as root): system libraries for GPAW,
# the browser used by UI tests, Slurm and munge for the cluster tests (daemons started by the tests
# themselves, never as services), the pinned CPU torch wheel, then magvox with its extras.
set -euo pipefail
cd "$(dirname "$0")/.."
PKGS="libxc-dev libopenblas-dev libfftw3-dev gpaw-data chromium chromium-driver
      slurmctld slurmd slurm-client munge iproute2"
missing=$(for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
fi
PIP="python3 -m pip"
$PIP show torch >/dev/null 2>&1 || $PIP install -q torch==2.13.0   # CPU wheel; never an unpinned torch
$PIP show gpaw >/dev/null 2>&1 || CC=g++ $PIP install -q "gpaw>=25.1"  # its C++ sources need g++
$PIP install -q -e ".[dft,test]"
