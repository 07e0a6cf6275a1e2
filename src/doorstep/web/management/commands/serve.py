"""doorstep serve: the site under gunicorn, as a lender runs it in production (docs/operations.md).

gunicorn runs in this process through its Python API (`gunicorn.app.base.BaseApplication`)
rather than by exec'ing the `gunicorn` binary: the settings are already read from the
environment by the `doorstep` command, so the server sees exactly what every other command sees,
and there is no second way to name the WSGI application. This process becomes gunicorn's master:
it loads the application once (`preload_app`), then forks the workers; SIGTERM or Ctrl-C stops
it gracefully, SIGHUP reloads the workers.

Production settings: `DEBUG` must be off (the command refuses `DOORSTEP_DEBUG=1`). Static files
are served by whitenoise, which the project already has in its middleware; the command first runs
`collectstatic` into `STATIC_ROOT` (the var dir's `static/`), so whitenoise serves the compressed
copies with far-future caching, unless `--no-collectstatic`.

Workers: `--workers` defaults to 2 × CPUs + 1 (gunicorn's own advice), `--threads` to 1 (the
sync worker); with more than one thread gunicorn uses its threaded worker (gthread), which also
keeps connections alive between requests. Each worker thread holds its own database connection
(`CONN_MAX_AGE` 60 s), so PostgreSQL sees workers × threads connections.
"""

import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


def default_workers() -> int:
    return 2 * (os.cpu_count() or 1) + 1


class Command(BaseCommand):
    help = "Serve the site under gunicorn (production settings: DEBUG off, whitenoise)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--bind", default="127.0.0.1:8000", help="HOST:PORT (default 127.0.0.1:8000)"
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=default_workers(),
            help="worker processes (default 2 × CPUs + 1)",
        )
        parser.add_argument(
            "--threads", type=int, default=1, help="threads per worker (more than 1: gthread)"
        )
        parser.add_argument(
            "--timeout", type=int, default=30, help="seconds before a stuck worker is restarted"
        )
        parser.add_argument(
            "--max-requests",
            type=int,
            default=0,
            help="restart a worker after this many requests (0: never)",
        )
        parser.add_argument("--access-log", default=None, help="access log file, or - for stderr")
        parser.add_argument(
            "--no-collectstatic", action="store_true", help="do not collect static files first"
        )

    def handle(self, *, bind, workers, threads, timeout, max_requests, access_log, **options):
        if settings.DEBUG:
            raise CommandError("doorstep serve runs production settings: unset DOORSTEP_DEBUG")
        if workers < 1 or threads < 1:
            raise CommandError("--workers and --threads must be at least 1")
        if not options["no_collectstatic"]:
            call_command("collectstatic", interactive=False, verbosity=0)
        config = {
            "bind": bind,
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread" if threads > 1 else "sync",
            "timeout": timeout,
            "max_requests": max_requests,
            "max_requests_jitter": max_requests // 10,
            "preload_app": True,
            "accesslog": access_log,
            "errorlog": "-",
            "proc_name": "doorstep",
            # gunicorn's control socket is one file per user ($HOME/.gunicorn/gunicorn.ctl): two
            # servers on one machine would fight over it, and doorstep does not use gunicornc.
            "control_socket_disable": True,
        }
        self.stderr.write(
            f"doorstep serve: http://{bind}/ — {workers} workers × {threads} threads "
            f"({config['worker_class']}); Ctrl-C stops"
        )
        serve(config)


def serve(config: dict) -> None:
    """Run gunicorn's master with `config` until it is stopped."""
    from gunicorn.app.base import BaseApplication

    from doorstep.wsgi import application

    class Server(BaseApplication):
        def load_config(self):
            for key, value in config.items():
                self.cfg.set(key, value)

        def load(self):
            return application

    Server().run()
