# One image for every Switchyard process; the command picks the role.
# Dependencies come from requirements.lock (exact versions, regenerate with `make lock`),
# so every build installs what was tested; the package itself adds no dependency.
FROM python:3.11.9-slim
WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock
COPY pyproject.toml README.md ./
COPY switchyard switchyard
COPY workers workers
COPY producers producers
COPY queueing queueing
COPY routes routes
COPY providers providers
COPY storage storage
COPY contract contract
RUN pip install --no-cache-dir --no-deps .
USER nobody
# api 8000 · worker host /metrics 9191 (--metrics-port) · scheduler 9300 · exporter 9200
EXPOSE 8000 9191 9200 9300
ENTRYPOINT ["switchyard"]
