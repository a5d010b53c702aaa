# Sourced by the other scripts: finds or installs uv, then installs the locked
# dependencies into .venv. Needs only python3 (3.11+) and the package registry.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if ! python3 -m uv --version >/dev/null 2>&1; then
  echo "== installing uv (the project's package manager)"
  # A system Python that refuses pip installs (PEP 668) takes uv in the user's site.
  python3 -m pip install --quiet --disable-pip-version-check uv 2>/dev/null \
    || python3 -m pip install --quiet --disable-pip-version-check --user --break-system-packages uv
fi
echo "== installing locked dependencies into .venv"
python3 -m uv sync --frozen --quiet
