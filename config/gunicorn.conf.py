"""gunicorn settings shared by every app (``gunicorn -c config/gunicorn.conf.py 'idp:create_app()'``).

Metrics: each worker is a process, so prometheus-client counts into files of a folder that every
worker of this server shares (``PROMETHEUS_MULTIPROC_DIR``, made here when the operator names
none); a scrape answered by any worker adds them all up. The folder starts empty at each start and
a dead worker's live gauges are dropped.
"""

import os
import shutil
import tempfile

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = 120
control_socket_disable = True  # no control socket next to the code (gunicorn >= 23)

metrics_folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="civic-metrics-")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_folder  # before any worker imports prometheus-client


def on_starting(server):
    for entry in os.listdir(metrics_folder):  # a previous run's counts are not this one's
        path = os.path.join(metrics_folder, entry)
        shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
