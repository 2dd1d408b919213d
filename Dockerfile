# ocppcs in a container (not built or tested here: see README.md, "Docker").
#   docker build -t ocppcs .
#   docker run -p 9220:9220 -v ocppcs-data:/opt/ocppcs/data ocppcs
FROM python:3.11-slim
WORKDIR /opt/ocppcs
COPY setup.cfg pyproject.toml README.md ./
COPY ocppcs ocppcs
COPY twisted twisted
COPY conf conf
RUN pip install --no-cache-dir . \
    && useradd --system --home-dir /opt/ocppcs ocppcs \
    && mkdir -p data && chown ocppcs:ocppcs data
USER ocppcs
EXPOSE 9220
VOLUME /opt/ocppcs/data
# docker stop sends this: the graceful shutdown (give it time: docker stop -t 45).
STOPSIGNAL SIGQUIT
# In the foreground (-n), logging to standard output, no pid file; the
# configuration is the example one unless a file is mounted over it. docker
# kill -s HUP reloads it.
CMD ["twistd", "-n", "--pidfile=", "--logfile", "-", "ocppcs", "--config", "conf/ocppcs.conf"]
