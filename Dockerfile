# One image for every Switchyard process; the command picks the role.
FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY switchyard switchyard
COPY workers workers
COPY producers producers
COPY providers providers
COPY storage storage
RUN pip install --no-cache-dir .
USER nobody
# api 8000 · worker host /metrics 9191 (--metrics-port) · exporter 9200
EXPOSE 8000 9191 9200
ENTRYPOINT ["switchyard"]
