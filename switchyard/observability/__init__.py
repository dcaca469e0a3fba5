"""Operations wiring: metrics exposition (multiprocess-aware), the queue exporter, heartbeats.

``metrics``  — where prometheus-client keeps multiprocess files, the registry to expose, the
               worker host's aggregated ``/metrics`` server.
``exporter`` — one process reading Redis and the database into gauges (queue depth, oldest
               job age, DLQ depth, connections, workers alive); a probe is one small function.
"""
