#!/usr/bin/env bash
# Download, here, the pure-Python wheels that the lent GPU machine lacks for scripts/gpu_checks.sh.
# That machine has Python 3.12 with PyTorch, torchvision, numpy, scipy, scikit-learn,
# scikit-image, matplotlib, pillow, tqdm and pyyaml, but no IPython or ipywidgets (which the
# lessons import), and it cannot reach PyPI. The wheels land in .whl/ (git-ignored); the device
# call carries that folder (carry: [".whl"]) and gpu_checks.sh installs it into /tmp/site.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .whl && mkdir -p .whl
python3 -m pip download -q --disable-pip-version-check --only-binary=:all: --python-version 3.12 \
  --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux2014_x86_64 \
  -d .whl "ipython>=8,<10" "ipywidgets>=8,<9"
ls .whl
du -sh .whl
