# CityDesk's images for compose.yml: `desk` (Python 3.11: the desk service, CLI and connectors) and `rasa`
# (Python 3.10: the Rasa 3.6 server with the model trained at build time, and the action server). Both install
# exactly the lock files that `make setup` installs (scripts/setup-venv.sh).

FROM python:3.11-slim AS desk
ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 HF_HUB_OFFLINE=1 PYTHONPATH=/srv/citydesk
WORKDIR /srv/citydesk
COPY requirements/desk.lock requirements/desk.lock
# torch first and pinned, as scripts/setup-venv.sh does: 2.13.0 is the CPU build
RUN pip install --no-cache-dir torch==2.13.0 && pip install --no-cache-dir -r requirements/desk.lock
COPY . .
RUN pip install --no-cache-dir --no-deps --no-build-isolation -e . && useradd --system citydesk \
    && mkdir -p /srv/citydesk/var && chown citydesk /srv/citydesk/var
USER citydesk
EXPOSE 8000
CMD ["python", "-m", "desk"]

FROM python:3.10-slim AS rasa
ENV PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONPATH=/srv/citydesk TF_CPP_MIN_LOG_LEVEL=2 \
    RASA_TELEMETRY_ENABLED=false SQLALCHEMY_SILENCE_UBER_WARNING=1
WORKDIR /srv/citydesk
COPY requirements/rasa.lock requirements/rasa.lock
RUN pip install --no-cache-dir -r requirements/rasa.lock
COPY bot bot
COPY config.yml endpoints.yml credentials.yml ./
RUN rasa train --domain bot/domain.yml --data bot/data --config config.yml --out models/rasa --fixed-model-name citydesk \
    && useradd --system citydesk
USER citydesk
EXPOSE 5005
# `rasa run` through bot/rasa_server.py: a faster start and a faster message path (README, "Keeping it running", "Throughput")
CMD ["python", "-m", "bot.rasa_server", "run", "--model", "models/rasa/citydesk.tar.gz", "--endpoints", "endpoints.yml", \
     "--credentials", "credentials.yml", "--interface", "127.0.0.1", "--port", "5005"]
