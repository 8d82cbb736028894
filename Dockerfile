# The same steps as `make run`: install the package, migrate, serve.
# Not built on the development machines (no Docker engine there); kept step for step with the Makefile.
FROM python:3.11-slim
WORKDIR /srv/timeline
COPY pyproject.toml alembic.ini README.md ./
COPY app ./app
COPY events ./events
COPY migrations ./migrations
RUN pip install --no-cache-dir -e .
ENV TIMELINE_DATABASE_URL=sqlite:////data/timeline.db
VOLUME /data
EXPOSE 8000
CMD ["sh", "-c", "timeline migrate && timeline serve --host 0.0.0.0 --port 8000"]
