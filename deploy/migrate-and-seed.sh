#!/bin/sh
# One-shot job (docker compose service `migrate`): every service's schema, then the default data
# (units, categories, the demo club). Each step is idempotent, so the job can run on every deploy.
set -eu
for service in intake routing notify reporting web; do
  python -m "services.$service" migrate
done
python -m services.intake seed
python -m services.routing seed
