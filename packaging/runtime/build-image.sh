#!/usr/bin/env bash
# Builds the default python-3.11 runtime image with no registry: a minimal Debian
# root filesystem (mmdebstrap) imported into Docker. Skips when the image exists.
set -euo pipefail
image="${1:-hivemind/python:3.11}"
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "runtime image $image present"
  exit 0
fi
if ! command -v mmdebstrap >/dev/null 2>&1; then
  echo "mmdebstrap is missing: apt-get install -y mmdebstrap" >&2
  exit 1
fi
echo "building runtime image $image (mmdebstrap, about 30 s)"
mmdebstrap --quiet --variant=essential --include=python3 \
  bookworm - | docker import --change 'CMD ["python3"]' - "$image"
docker image inspect --format '{{.Id}}' "$image"
