"""The `leadflow` command: serve, work, migrate, administer, import, load demo data.

Configuration comes from the environment (LEADFLOW_*, DATABASE_URL, REDIS_URL; see the
README). Expected errors (a bad setting, an unknown user, an unreadable file) print one
line and exit with status 2; `leadflow import` exits with 1 when some rows were rejected.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import signal
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Any

log = logging.getLogger("leadflow.cli")

EXIT_ERROR = 2


class CommandError(Exception):
    """A problem the person at the terminal can fix; printed as one line."""


def _default_port() -> int:
    from leadflow.config import Env

    return Env().int("LEADFLOW_PORT", 8000, minimum=1, maximum=65535)


def _positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _port(raw: str) -> int:
    value = _positive_int(raw)
    if value > 65535:
        raise argparse.ArgumentTypeError("must be at most 65535")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leadflow",
        description="Leadflow: self-hosted lead management and marketing automation.",
        epilog="Configuration is read from the environment (LEADFLOW_*, DATABASE_URL, "
               "REDIS_URL). Run 'leadflow COMMAND --help' for a command's options.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    serve = commands.add_parser(
        "serve", help="serve the web app and the API (waitress)",
        description="Serve Leadflow over HTTP with waitress. Stops cleanly on Ctrl-C or "
                    "SIGTERM. Put a TLS-terminating reverse proxy in front in production.")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default: %(default)s; 0.0.0.0 for all)")
    serve.add_argument("--port", type=_port, default=None,
                       help="port to listen on (default: $LEADFLOW_PORT or 8000); links in "
                            "emails and forms follow it unless LEADFLOW_BASE_URL is set")
    serve.add_argument("--threads", type=_positive_int, default=8,
                       help="request threads per process (default: %(default)s)")
    serve.add_argument("--processes", type=_positive_int, default=1,
                       help="server processes sharing the port (default: %(default)s; one "
                            "per CPU core uses them all)")
    serve.add_argument("--with-worker", action="store_true",
                       help="also run the background worker in this process (one-machine "
                            "setups; otherwise run 'leadflow worker' beside it)")
    serve.add_argument("--banner", type=Path, default=None, metavar="FILE",
                       help="once listening, print the sign-in and API token saved in FILE "
                            "by 'leadflow demo --credentials FILE' (make run)")

    worker = commands.add_parser(
        "worker", help="run background work: queued tasks and timed campaign steps",
        description="Run queued tasks (LEADFLOW_TASK_BACKEND: db or rq) and, every "
                    "LEADFLOW_WORKER_TICK seconds, the due time-based work (campaign waits). "
                    "Any number of workers may run at once. Stops cleanly on Ctrl-C or "
                    "SIGTERM, after the task at hand.")
    worker.add_argument("--once", action="store_true",
                        help="run what is queued or due now, then exit")
    worker.add_argument("--name", default=None,
                        help="this worker's name, unique among running workers "
                             "(default: HOST.PID)")

    commands.add_parser(
        "bounces", help="receive bounce and complaint reports by SMTP (run beside the workers)",
        description="Run the inbound SMTP server that receives delivery status notifications "
                    "(RFC 3464) and complaint reports (ARF) sent to the messages' VERP "
                    "addresses, on $LEADFLOW_BOUNCE_LISTEN (default 127.0.0.1:2525; the MX "
                    "of LEADFLOW_BOUNCE_DOMAIN points at it). Stops on Ctrl-C or SIGTERM.")

    migrate = commands.add_parser(
        "migrate", help="create or update the database tables",
        description="Apply the database migrations (safe to repeat) and print one line: "
                    "how many were applied.")
    migrate.add_argument("--verbose", action="store_true",
                         help="list each migration as it is applied")

    admin = commands.add_parser(
        "createadmin", help="create an administrator (or reset its password)",
        description="Create a superuser with the admin role, or reset the password of an "
                    "existing one. The password comes from --password, else "
                    "$LEADFLOW_ADMIN_PASSWORD, else a prompt.")
    admin.add_argument("--username", required=True)
    admin.add_argument("--email", default="")
    admin.add_argument("--password", default=None,
                       help="avoid on shared machines: other users can see the command line")

    token = commands.add_parser("token", help="manage API tokens",
                                description="Manage API tokens.")
    token_commands = token.add_subparsers(dest="token_command", metavar="ACTION",
                                          required=True)
    create = token_commands.add_parser(
        "create", help="create a token for a user and print it",
        description="Create an API token for USER and print it (it is shown only once; "
                    "Leadflow stores only its hash).")
    create.add_argument("--user", required=True, help="the username the token acts as")
    create.add_argument("--name", default="api", help="a label for the token "
                                                      "(default: %(default)s)")
    create.add_argument("--scope", default="full", choices=("full", "read", "ingest"),
                        help="full: all the user may do; read: GET only; ingest: POST leads "
                             "and events, answers carry ids and statuses only "
                             "(default: %(default)s)")
    create.add_argument("--expires", default=None, metavar="DATE",
                        help="the token stops working at this date or time "
                             "(YYYY-MM-DD or ISO 8601; default: never)")
    token_commands.add_parser("list", help="list the tokens (never their secret)",
                              description="List API tokens: prefix, user, name, scope, "
                                          "expiry, last use, revoked.")

    importer = commands.add_parser(
        "import", help="import leads from a CSV or Excel (xlsx) file",
        description="Create or update leads from a CSV (any separator; UTF-8, UTF-16 or "
                    "Windows-1252, detected) or xlsx file. Without --mapping, columns are "
                    "recognised by their English or French names (Email, Courriel, Prénom, "
                    "Last name, Société, Téléphone, Pays, Ville, Poste, Date de création, "
                    "Notes...; see docs/imports.md) or by lead field names. A lead is matched "
                    "by email, else external_id. Rejected rows go to an error report (CSV) "
                    "whose path is printed; the exit status is then 1.")
    importer.add_argument("path", help="the CSV or xlsx file")
    importer.add_argument("--mapping", type=Path, default=None, metavar="FILE",
                          help="a JSON column mapping (e.g. leadflow/imports/mappings/"
                               "x_education.json)")
    importer.add_argument("--dry-run", action="store_true",
                          help="validate every row and report, without writing anything")
    importer.add_argument("--as", dest="as_user", default=None, metavar="USERNAME",
                          help="the user the import is recorded as (on the timeline)")
    importer.add_argument("--errors", type=Path, default=None, metavar="FILE",
                          help="where to write the error report (default: next to the file, "
                               "else, in a read-only folder, under the data directory's "
                               "imports/)")
    importer.add_argument("--encoding", default=None, metavar="CODEC",
                          help="the CSV's text encoding (default: detected; one of "
                               "utf-8, utf-16-le, utf-16-be, cp1252, iso-8859-15, latin-1, "
                               "mac-roman)")

    demo = commands.add_parser(
        "demo", help="load demo data into an empty database",
        description="Load about 300 demo leads with teams, routing, scoring rules, a "
                    "nurture campaign and forms, unless the database already has leads.")
    demo.add_argument("--credentials", type=Path, default=None, metavar="FILE",
                      help="also create or keep the demo administrator 'admin' and an API "
                           "token, saved in FILE (mode 600), and print a start-up banner")
    demo.add_argument("--url", default=None,
                      help="the address printed in the banner (default: from --port)")
    demo.add_argument("--no-banner", action="store_true",
                      help="save the credentials without printing them ('leadflow serve "
                           "--banner FILE' prints them once it listens)")

    manage = commands.add_parser(
        "manage", help="run a Django management command (e.g. 'leadflow manage shell')",
        description="Pass the remaining arguments to Django's manage.py, e.g. "
                    "'leadflow manage shell' or 'leadflow manage help'.")
    manage.add_argument("args", nargs=argparse.REMAINDER, help="the command and its options")
    return parser


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadflow.settings")
    import django
    from django.apps import apps

    if not apps.ready:  # main() may be called again in one process (tests)
        django.setup()


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["manage"] and args_list[1:2] not in ([], ["-h"], ["--help"]):
        # Everything after "manage" belongs to Django, options included.
        return _run(lambda: _manage(args_list[1:]))
    args = build_parser().parse_args(args_list)
    if args.command == "serve" and args.port is not None:
        # Before the settings load: BASE_URL (links in emails, form snippets, hosted_url)
        # follows the port served on unless LEADFLOW_BASE_URL names another address.
        os.environ["LEADFLOW_PORT"] = str(args.port)
    handler = COMMANDS[args.command]
    return _run(lambda: handler(args))


def _run(action: Any) -> int:
    from leadflow.config import ConfigError
    from leadflow.core.errors import LeadflowError

    try:
        _setup_django()
        from django.db.utils import OperationalError

        try:
            return int(action() or 0)
        except OperationalError as exc:  # most often: the database does not answer
            first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise CommandError(f"database: {first_line}") from None
    except (ConfigError, CommandError) as exc:
        print(f"leadflow: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except LeadflowError as exc:
        print(f"leadflow: error: {exc.message}", file=sys.stderr)
        return EXIT_ERROR


# -- commands ----------------------------------------------------------------------------


def cmd_serve(args: argparse.Namespace) -> int:
    from leadflow.server import webserver
    from leadflow.server.worker import Worker

    port = args.port or _default_port()
    try:
        sock = webserver.listen(args.host, port)
    except webserver.ServeError as exc:
        raise CommandError(str(exc)) from None
    worker = Worker(name=f"{_hostname()}.{os.getpid()}.web") if args.with_worker else None
    stop_worker = (lambda: worker.stop(timeout=30)) if worker is not None else None
    url = f"http://{_url_host(args.host)}:{port}"
    print(f"leadflow: serving on {url}/ "
          f"({args.processes} process{'es' if args.processes > 1 else ''} of {args.threads} "
          f"threads{', with a worker' if worker else ''})", flush=True)
    try:
        if args.processes == 1:
            if worker is not None:
                worker.start()
                worker.wait_started(timeout=5)
            if args.banner is not None:
                _saved_banner(url, args.banner)
            webserver.run_server(sock, args.threads, on_stop=stop_worker)
        else:
            if args.banner is not None:
                _saved_banner(url, args.banner)
            webserver.run_processes(sock, args.threads, args.processes,
                                    on_start=worker.start if worker is not None else None,
                                    on_stop=stop_worker)
    except webserver.ServeError as exc:
        raise CommandError(str(exc)) from None
    finally:
        sock.close()
    print("leadflow: stopped", file=sys.stderr, flush=True)
    return 0


def _hostname() -> str:
    import socket

    return socket.gethostname()


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def cmd_worker(args: argparse.Namespace) -> int:
    from leadflow.server.worker import Worker, WorkerError

    worker = Worker(name=args.name)
    try:
        if args.once:
            try:
                done = worker.run_once()
            except KeyboardInterrupt:
                print("leadflow: interrupted", file=sys.stderr)
                return 130
            print(f"leadflow: worker {worker.name} did {done} item(s)", flush=True)
            return 0

        def shutdown(signum: int, frame: FrameType | None) -> None:
            if worker.stopping:
                raise SystemExit(1)  # a second Ctrl-C: stop now
            log.warning("%s received: stopping after the current task",
                        signal.Signals(signum).name)
            worker.stop()

        signal.signal(signal.SIGINT, shutdown)
        signal.signal(signal.SIGTERM, shutdown)
        worker.run()
    except WorkerError as exc:
        raise CommandError(str(exc)) from None
    return 0


def cmd_bounces(args: argparse.Namespace) -> int:
    import threading

    from django.conf import settings

    from leadflow.emails import bounce_listener

    host, port = settings.LEADFLOW_BOUNCE_LISTEN
    try:
        controller = bounce_listener.start(host, port)
    except (OSError, RuntimeError, TimeoutError) as exc:
        raise CommandError(f"cannot listen on {host}:{port} (LEADFLOW_BOUNCE_LISTEN): "
                           f"{exc}") from None
    stopped = threading.Event()

    def shutdown(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    print(f"leadflow: receiving bounces on {_url_host(host)}:{port}", flush=True)
    try:
        stopped.wait()
    finally:
        controller.stop()
    print("leadflow: stopped", file=sys.stderr, flush=True)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from django.core.management import call_command

    before = _applied_migrations()
    call_command("migrate", interactive=False, verbosity=2 if args.verbose else 0)
    applied = _applied_migrations() - before
    print(f"leadflow: database ready ({applied} migration{'' if applied == 1 else 's'} "
          "applied)", flush=True)
    return 0


def _applied_migrations() -> int:
    from django.db import connection
    from django.db.migrations.recorder import MigrationRecorder

    return len(MigrationRecorder(connection).applied_migrations())


def _admin_password(given: str | None) -> str:
    if given:
        return given
    from_env = os.environ.get("LEADFLOW_ADMIN_PASSWORD", "")
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        raise CommandError("no password: pass --password, set LEADFLOW_ADMIN_PASSWORD, or "
                           "run in a terminal to be asked")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Password (again): "):
        raise CommandError("the two passwords differ")
    return first


def cmd_createadmin(args: argparse.Namespace) -> int:
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from leadflow.accounts.models import User
    from leadflow.accounts.services import create_admin

    password = _admin_password(args.password)
    try:
        validate_password(password, User(username=args.username, email=args.email))
    except ValidationError as exc:
        raise CommandError("password rejected: " + " ".join(exc.messages)) from None
    user = create_admin(args.username, password, email=args.email)
    print(f"leadflow: administrator {user.get_username()!r} is ready")
    return 0


def _expiry(text: str | None) -> datetime | None:
    from django.utils import timezone

    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(f"--expires must be a date (YYYY-MM-DD) or ISO 8601 time, "
                           f"not {text!r}") from None
    return timezone.make_aware(moment) if timezone.is_naive(moment) else moment


def cmd_token(args: argparse.Namespace) -> int:
    from leadflow.accounts.services import create_token_for_username, token_rows

    if args.token_command == "list":  # noqa: S105 (an action name, not a secret)
        for row in token_rows():
            print("\t".join(row))
        return 0
    print(create_token_for_username(args.user, args.name, scope=args.scope,
                                    expires_at=_expiry(args.expires)))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from leadflow.imports.reports import save_error_report
    from leadflow.imports.services import import_path

    actor = None
    if args.as_user:
        from leadflow.accounts.models import User

        actor = User.objects.filter(username=args.as_user, is_active=True).first()
        if actor is None:
            raise CommandError(f"--as: no active user {args.as_user!r}")
    report = import_path(args.path, args.mapping, dry_run=args.dry_run, actor=actor,
                         encoding=args.encoding)
    if report.ignored_columns:
        print(f"ignored columns: {', '.join(report.ignored_columns)}", file=sys.stderr)
    print(report.summary)
    if not report.errors:
        return 0
    for error in report.errors[:10]:
        print(f"{args.path}: {error}", file=sys.stderr)
    path = save_error_report(report, Path(args.path), args.errors)
    print(f"error report: {path}")
    return 1


def cmd_demo(args: argparse.Namespace) -> int:
    from leadflow.leads.models import Lead
    from leadflow.server.demo import ensure_demo_admin, load_demo

    if Lead.objects.exists():
        print("leadflow: the database already has leads; demo data not loaded")
    else:
        print("leadflow: loading demo data (takes about 20 seconds)...", flush=True)
        summary = load_demo()
        print(f"leadflow: demo data loaded: {summary}" if summary else
              "leadflow: the database already has leads; demo data not loaded")
    if args.credentials is not None:
        creds = ensure_demo_admin(args.credentials)
        if args.no_banner:
            return 0
        url = (args.url or f"http://127.0.0.1:{_default_port()}").rstrip("/")
        _banner(url, creds.username, creds.password, creds.token, args.credentials)
    return 0


def _saved_banner(url: str, path: Path) -> None:
    """The banner from the credentials `leadflow demo` saved (make run)."""
    import json

    try:
        saved = json.loads(path.read_text())
        username, password, token = saved["username"], saved["password"], saved["token"]
    except (OSError, ValueError, KeyError, TypeError):
        raise CommandError(f"--banner: {path} holds no demo credentials (made by "
                           "'leadflow demo --credentials FILE')") from None
    _banner(url, username, password, token, path, title="Leadflow is ready")


def _banner(url: str, username: str, password: str, token: str, path: Path,
            title: str = "Leadflow is starting") -> None:
    from django.conf import settings

    lines = [
        title,
        "",
        f"  Open:        {url}/",
        f"  Sign in:     {username}  /  {password}",
        f"  API token:   {token}",
        f"  API docs:    {url}/api/v1/docs",
        f"  Try it:      curl -H 'Authorization: Bearer {token}' \\",
        f"                    {url}/api/v1/me",
        f"  Commands:    {_command_hint()}",
        "",
        f"  Data:        {settings.DATA_DIR} (kept between runs)",
        f"  Login saved: {path}",
    ]
    mailer: dict[str, Any] = dict(settings.MAILERS["default"])
    file_path = mailer.get("OPTIONS", {}).get("file_path")
    if file_path:
        lines.append(f"  Emails:      written to {file_path}, not delivered")
    lines += ["", "Stop with Ctrl-C."]
    rule = "=" * 78
    print("\n".join(["", rule, *(f"  {line}".rstrip() for line in lines), rule, ""]),
          flush=True)


def _command_hint() -> str:
    """How to run `leadflow` from this shell: its name when it is on the PATH, else the
    virtualenv's script (make run does not activate the virtualenv)."""
    import shutil

    script = Path(sys.executable).with_name("leadflow")
    found = shutil.which("leadflow")
    if not script.exists() or (found and Path(found).resolve() == script.resolve()):
        return "leadflow --help"
    try:
        shown = script.relative_to(Path.cwd())
    except ValueError:
        shown = script
    return f"{shown} --help  (or 'source {shown.parent}/activate', then leadflow ...)"


def _manage(argv: list[str]) -> int:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["leadflow manage", *argv])
    return 0


def _manage_cmd(args: argparse.Namespace) -> int:
    return _manage(list(args.args) or ["help"])


COMMANDS = {
    "serve": cmd_serve,
    "worker": cmd_worker,
    "bounces": cmd_bounces,
    "migrate": cmd_migrate,
    "createadmin": cmd_createadmin,
    "token": cmd_token,
    "import": cmd_import,
    "demo": cmd_demo,
    "manage": _manage_cmd,
}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
