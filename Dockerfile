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
ENTRYPOINT ["switchyard"]
