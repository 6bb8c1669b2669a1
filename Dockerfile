# webhook-reconciler in a container: `docker build -t webhook-reconciler .`, then
#   docker run --rm -v "$PWD:/work" -e VAULT_ADDR -e VAULT_TOKEN -e ACME_INGATE_TOKEN webhook-reconciler plan webhooks/
# The OS keyring is not available in a container: use a `vault` secret store.
# The build stage makes the same wheel the tests install (pip wheel .); the image installs only that wheel and its
# dependencies, and runs as a non-root user.
FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY reconciler ./reconciler
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir /wheels/*.whl \
    && useradd --create-home --uid 10001 --user-group reconciler
USER 10001:10001
WORKDIR /work
ENTRYPOINT ["reconciler"]
CMD ["--help"]
