"""The clinician review page: a small Flask app, server-rendered, read-only over the summaries.

`scrollcheck review [--host 127.0.0.1] [--port 8050]` serves it with waitress (bot/review/server.py),
a production WSGI server. Security in one place:
- argon2id passwords; login lockout per account and throttling per address (limits in
  bot/review/settings.py, counted in the audit log: security.py); disabled accounts refused;
- server-side sessions, renewed at login (the session from before login is ended and the cookie
  cleared: no session fixation); logout and disabling take effect at once; idle and absolute expiry;
- session cookie HttpOnly, SameSite=Lax, Secure when SCROLLCHECK_REVIEW_HTTPS=1 or the request came
  over HTTPS (X-Forwarded-Proto is trusted only with SCROLLCHECK_REVIEW_TRUST_PROXY=1), and then HSTS;
- CSRF token on every POST (CSRFProtect, no exemptions); a strict Content-Security-Policy (no
  scripts at all), frame, content-type and referrer headers, no caching;
- every login, view and export is written to the audit log (who, what, when; a check-in's random
  ref at most, never a young person's data).
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import logging
import os
import secrets
import signal
import sys
from pathlib import Path
from typing import Any, ContextManager, List, Optional, Tuple
from urllib.parse import urlencode, urlsplit

from flask import (
    Flask,
    Response,
    abort,
    flash,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFError, CSRFProtect
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response as BaseResponse  # what redirect() returns

from bot import PROJECT_ROOT, settings
from bot.logformat import configure as configure_logging
from bot.review import charts, exports
from bot.review.content import category_label, level_label, load_review_content
from bot.review.forms import FilterForm, LoginForm, filter_args, parse_date
from bot.review.queries import (
    Filters,
    band_distribution,
    checkins_per_week,
    escalations_per_week,
    get_checkin,
    list_checkins,
)
from bot.review.security import (
    SESSION_MAX,
    Actor,
    LoginBlock,
    audit,
    end_session,
    login_block,
    normalise_email,
    record_failed_login,
    resume_session,
    start_session,
    verify_login,
)
from bot.review.settings import ReviewSettings, review_settings
from bot.storage.db import DatabaseBusyError, database_url, is_locked_error, session_scope
from bot.storage.models import utcnow

log = logging.getLogger(__name__)

DEFAULT_PORT = settings.REVIEW_PORT.default
PAGE_SIZE = 50
CHART_WEEKS = 12
SECRET_KEY_FILE = PROJECT_ROOT / ".secrets" / "review-session.key"
PUBLIC_ENDPOINTS = {"login", "static", "healthz"}

HSTS = "max-age=31536000"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def load_secret_key(path: Path = SECRET_KEY_FILE) -> bytes:
    """The cookie-signing key: env SCROLLCHECK_REVIEW_SECRET_KEY, else a file made on first run."""
    from_env = settings.REVIEW_SECRET_KEY.get()
    if from_env:
        return from_env.encode("utf-8")
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
    return path.read_bytes()


class _SessionInterface(SecureCookieSessionInterface):
    """Secure cookies when configured, and also whenever the request itself arrived over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        if app.config["SESSION_COOKIE_SECURE"]:
            return True
        return bool(has_request_context() and request.is_secure)


def _safe_next(target: Optional[str]) -> Optional[str]:
    """Only same-site paths: an open redirect after login would be a phishing aid."""
    if not target:
        return None
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
    ):
        return None
    return target


def create_app(
    database_url_: Optional[str] = None,
    *,
    secret_key: Optional[bytes] = None,
    screening_dir: Optional[Path] = None,
    https: Optional[bool] = None,
    trust_proxy: Optional[bool] = None,
    config: Optional[ReviewSettings] = None,
) -> Flask:
    """The app; `config` defaults to the environment's settings, `https`/`trust_proxy` override it."""
    app = Flask(__name__)
    config = config or review_settings()
    https = config.https if https is None else https
    trust_proxy = config.trust_proxy if trust_proxy is None else trust_proxy
    limits = config.limits
    app.config.update(
        SECRET_KEY=secret_key or load_secret_key(),
        DATABASE_URL=database_url_ or database_url(),
        SESSION_COOKIE_NAME="scrollcheck_review",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
        PERMANENT_SESSION_LIFETIME=SESSION_MAX,
        PREFERRED_URL_SCHEME="https" if https else "http",
        WTF_CSRF_TIME_LIMIT=int(SESSION_MAX.total_seconds()),
        # Flask-WTF's extra check over HTTPS wants a Referer, which no browser sends under our
        # Referrer-Policy: no-referrer (every form failed behind TLS). Fetch Metadata takes its
        # place: _refuse_cross_site_posts below.
        WTF_CSRF_SSL_STRICT=False,
        MAX_CONTENT_LENGTH=64 * 1024,
        REVIEW_TRUST_PROXY=trust_proxy,  # read by server.ReviewServer: pass proxy headers on or drop them
        REVIEW_LIMITS=limits,
    )
    app.session_interface = _SessionInterface()
    if trust_proxy:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    CSRFProtect(app)
    content = load_review_content(screening_dir)
    app.extensions["scrollcheck_content"] = content

    def db(write: bool = False) -> ContextManager[Session]:
        return session_scope(app.config["DATABASE_URL"], write=write)

    def client_ip() -> Optional[str]:
        return request.remote_addr

    # --- helpers for templates ------------------------------------------------------------
    @app.template_filter("when")
    def _when(moment: Optional[dt.datetime]) -> str:
        return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else ""

    @app.template_filter("day")
    def _day(moment: Optional[dt.datetime]) -> str:
        return moment.strftime("%Y-%m-%d") if moment else ""

    @app.template_filter("score")
    def _score(value: Optional[float]) -> str:
        return "–" if value is None else f"{value:.1f}"

    @app.template_filter("item_groups")
    def _item_groups(items: List[str]) -> List[Tuple[str, List[str]]]:
        """["fomo_1", "fomo_2", "comparison_4"] -> [("fomo", ["1", "2"]), ("comparison", ["4"])]."""
        groups: dict = {}
        for item in items:
            prefix, _, number = item.rpartition("_")
            if prefix and number.isdigit():
                groups.setdefault(prefix, []).append(number)
            else:
                groups.setdefault(item, [])
        return list(groups.items())

    @app.context_processor
    def _globals() -> dict:
        return {
            "content": content,
            "actor": g.get("actor"),
            "level_label": level_label,
            "category_label": category_label,
        }

    # --- security around every request -----------------------------------------------------
    @app.before_request
    def _refuse_cross_site_posts() -> None:
        """Besides the token: a form sent from another site (or a sibling subdomain) is refused.

        Browsers say where a request comes from in Sec-Fetch-Site even when they send no Referer
        and no Origin; clients without it (older browsers, scripts) still need the token.
        """
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            if request.headers.get("Sec-Fetch-Site", "same-origin") not in ("same-origin", "none"):
                raise CSRFError("The form was sent from another site.")

    @app.before_request
    def _require_login() -> Optional[BaseResponse]:
        g.actor = None
        if request.endpoint in ("static", "healthz"):
            return None  # no database work for style sheets and health checks
        token = session.get("token")
        if token:
            with db(write=True) as s:
                g.actor = resume_session(s, token, utcnow())
            if g.actor is None:
                session.pop("token", None)
        if request.endpoint in PUBLIC_ENDPOINTS or g.actor is not None:
            return None
        if request.method == "GET":
            target = request.full_path if request.query_string else request.path
            return redirect(url_for("login", next=target))
        abort(401)
        return None

    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Permissions-Policy"] = (
            "interest-cohort=(), camera=(), microphone=(), geolocation=()"
        )
        if request.endpoint != "static":
            response.headers["Cache-Control"] = "no-store"
        # HSTS only means something over HTTPS: configured, or this request came over it (directly,
        # or through a trusted proxy's X-Forwarded-Proto; an untrusted one is never believed).
        if app.config["SESSION_COOKIE_SECURE"] or request.is_secure:
            response.headers["Strict-Transport-Security"] = HSTS
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> Tuple[str, int]:
        return render_template(
            "error.html",
            title="Form expired",
            message="This form has expired or was not sent from this site. Go back, reload the page and try again.",
        ), 400

    @app.errorhandler(401)
    def _unauthorised(_error: Any) -> Tuple[str, int]:
        return render_template(
            "error.html", title="Please log in", message="You need to log in to do that."
        ), 401

    @app.errorhandler(404)
    def _not_found(_error: Any) -> Tuple[str, int]:
        return render_template(
            "error.html", title="Not found", message="There is no such page or summary."
        ), 404

    @app.errorhandler(OperationalError)
    @app.errorhandler(DatabaseBusyError)
    def _database_error(error: Exception) -> Tuple[str, int]:
        if isinstance(error, OperationalError) and not is_locked_error(error):
            log.error(
                "database error on %s: %s", request.endpoint, type(error).__name__, exc_info=error
            )
        return render_template(
            "error.html",
            title="Temporarily unavailable",
            message="The database is busy or unreachable. Please try again in a moment.",
        ), 503

    # --- pages -----------------------------------------------------------------------------
    @app.get("/healthz")
    def healthz() -> Response:
        return Response("ok\n", mimetype="text/plain")

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        if g.actor is not None and request.method == "GET":
            return redirect(url_for("checkins"))
        form = LoginForm()
        next_target = _safe_next(request.values.get("next"))
        status = 200
        problem: Optional[str] = None  # which message login.html shows
        block: Optional[LoginBlock] = None
        token: Optional[str] = None
        if form.validate_on_submit():
            email = normalise_email(form.email.data)
            now = utcnow()
            ip = client_ip()
            with db(write=True) as s:
                block = login_block(s, email, ip, now, limits)
                if block is not None:
                    audit(s, "login_throttled", actor=email, ip=ip, at=now, target=block.kind)
                else:
                    clinician = verify_login(s, email, form.password.data)
                    if clinician is None:
                        block = record_failed_login(s, email, ip, now, limits)
                        problem, status = "wrong", 401
                    elif not clinician.active:
                        audit(
                            s,
                            "login_disabled",
                            actor=email,
                            clinician_id=clinician.id,
                            ip=ip,
                            at=now,
                        )
                        problem, status = "disabled", 403
                    else:
                        # The session from before this login ends here, whatever it was: a session
                        # id an attacker planted or saw before the login is worth nothing after it.
                        end_session(s, session.get("token"))
                        token = start_session(s, clinician, now)
                        clinician.last_login_at = now
                        audit(s, "login", actor=email, clinician_id=clinician.id, ip=ip, at=now)
            if token is not None:
                session.clear()  # a fresh cookie (and CSRF token): nothing from before login survives it
                session.permanent = True
                session["token"] = token
                return redirect(next_target or url_for("checkins"))
            if block is not None:
                problem, status = "locked", 429
        elif request.method == "POST":
            problem, status = "missing", 400
        page = render_template(
            "login.html",
            form=form,
            problem=problem,
            next=next_target,
            block=block,
            limits=limits,
            minutes_left=block.minutes_left(utcnow()) if block else 0,
            lockout_minutes=int(limits.lockout.total_seconds() // 60),
        )
        response = Response(page, status=status)
        if block is not None:
            response.headers["Retry-After"] = str(
                max(1, int((block.until - utcnow()).total_seconds()))
            )
        return response

    @app.post("/logout")
    def logout() -> BaseResponse:
        with db(write=True) as s:
            end_session(s, session.get("token"))
            audit(s, "logout", actor=g.actor.email, clinician_id=g.actor.id, ip=client_ip())
        session.clear()
        flash("You are logged out.")
        return redirect(url_for("login"))

    def _filters_from(values: Any) -> Tuple[FilterForm, Filters]:
        form = FilterForm(values, content)
        form.validate()
        return form, form.filters()

    def _audit(action: str, target: Optional[str] = None) -> None:
        actor: Actor = g.actor
        with db(write=True) as s:
            audit(
                s, action, actor=actor.email, clinician_id=actor.id, target=target, ip=client_ip()
            )

    @app.get("/")
    def checkins() -> str:
        form, filters = _filters_from(request.args)
        page = max(1, request.args.get("page", 1, type=int) or 1)
        with db() as s:
            rows, total = list_checkins(s, filters, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
            present_topics = sorted({t for row in rows for t in row.topics})
        _audit("view_list", f"{filters.describe()} page={page}")
        pages = max(1, -(-total // PAGE_SIZE))
        query = filter_args(filters)

        def page_url(number: int) -> str:
            return url_for("checkins") + "?" + urlencode(query + [("page", str(number))])

        return render_template(
            "list.html",
            form=form,
            filters=filters,
            rows=rows,
            total=total,
            page=page,
            pages=pages,
            page_url=page_url,
            export_fields=query,
            topics=content.topics(present_topics),
            filtered=bool(query),
        )

    @app.get("/checkins/<ref>")
    def checkin_detail(ref: str) -> str:
        if len(ref) > 24:
            abort(404)
        with db() as s:
            view = get_checkin(s, ref)
        if view is None:
            abort(404)
        _audit("view_detail", ref)
        return render_template(
            "detail.html", checkin=view, topics=content.topics(list(view.topics))
        )

    @app.get("/charts")
    def charts_page() -> str:
        today = utcnow().date()
        date_to = parse_date(request.args.get("date_to")) or today
        date_from = parse_date(request.args.get("date_from")) or (
            date_to - dt.timedelta(weeks=CHART_WEEKS) + dt.timedelta(days=1)
        )
        if date_from > date_to:
            date_from, date_to = date_to, date_from
        with db() as s:
            bands = band_distribution(s, date_from, date_to)
            per_week = checkins_per_week(s, date_from, date_to)
            escalations = escalations_per_week(s, date_from, date_to)
        _audit("view_charts", f"from={date_from.isoformat()} to={date_to.isoformat()}")

        band_keys: List[Optional[str]] = list(content.bands()) + [None]
        band_series = [
            charts.Series(str(b), content.band_label(b), f"band-{b or 'none'}") for b in band_keys
        ]
        topics = content.topics(list(bands))
        band_groups = [
            (content.topic_title(t), [bands.get(t, {}).get(b, 0) for b in band_keys])
            for t in topics
        ]
        levels = ["urgent", "concern"] + sorted(
            {lvl for _, counts in escalations for lvl in counts} - {"urgent", "concern"}
        )
        level_series = [charts.Series(lvl, level_label(lvl), f"level-{lvl}") for lvl in levels]
        escalation_weeks = [
            (week, [counts.get(lvl, 0) for lvl in levels]) for week, counts in escalations
        ]
        checkin_series = [charts.Series("checkins", "Shared check-ins", "checkins")]
        return render_template(
            "charts.html",
            date_from=date_from,
            date_to=date_to,
            band_chart=charts.grouped_bars(
                "bands", "Bands per topic (shared check-ins)", band_groups, band_series
            ),
            band_groups=band_groups,
            band_series=band_series,
            escalation_chart=charts.weekly_bars(
                "escalations", "Crisis escalations per week", escalation_weeks, level_series
            ),
            escalation_weeks=escalation_weeks,
            level_series=level_series,
            checkin_chart=charts.weekly_bars(
                "checkins-per-week",
                "Shared check-ins per week",
                [(w, [n]) for w, n in per_week],
                checkin_series,
            ),
            per_week=per_week,
        )

    def _export_rows(action: str) -> Tuple[list, Filters]:
        _, filters = _filters_from(request.form)
        with db() as s:
            rows, total = list_checkins(s, filters)
        _audit(action, f"{filters.describe()} rows={total}")
        return rows, filters

    def _attachment(body: str, mimetype: str, extension: str) -> Response:
        stamp = utcnow().strftime("%Y%m%d-%H%M")
        response = Response(body, mimetype=mimetype)
        response.headers["Content-Disposition"] = (
            f'attachment; filename="scrollcheck-summaries-{stamp}.{extension}"'
        )
        return response

    @app.post("/export/csv")
    def export_csv() -> Response:
        rows, _ = _export_rows("export_csv")
        # A byte-order mark lets spreadsheet programs read the UTF-8 correctly.
        return _attachment(
            "\ufeff" + exports.to_csv(rows, content), "text/csv; charset=utf-8", "csv"
        )

    @app.post("/export/fhir")
    def export_fhir() -> Response:
        rows, _ = _export_rows("export_fhir")
        return _attachment(
            exports.to_fhir_bundle(rows, content, now=utcnow()), "application/fhir+json", "json"
        )

    return app


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def main(argv: Optional[List[str]] = None) -> int:
    from bot.review.server import ReviewServer
    from bot.storage.migrate import is_current

    parser = argparse.ArgumentParser(
        prog="scrollcheck review", description="serve the clinician review page"
    )
    parser.add_argument("--host", default=settings.REVIEW_HOST.get())
    parser.add_argument("--port", type=int, default=settings.REVIEW_PORT.get())
    args = parser.parse_args(argv)
    configure_logging(logging.INFO)
    try:
        config = review_settings()
    except settings.SettingError as error:
        print(f"scrollcheck review: {error}", file=sys.stderr)
        return 1

    try:
        current = is_current()
    except Exception as error:
        print(
            f"scrollcheck review: cannot open the database: {type(error).__name__}", file=sys.stderr
        )
        return 1
    if not current:
        print(
            "scrollcheck review: the database schema is not up to date; run `scrollcheck migrate` first",
            file=sys.stderr,
        )
        return 1
    if not _is_loopback(args.host):
        log.warning(
            "serving on %s: put it behind an HTTPS reverse proxy and set SCROLLCHECK_REVIEW_HTTPS=1",
            args.host,
        )

    app = create_app(config=config)
    server = ReviewServer(app, args.host, args.port, threads=config.threads)

    def _stop(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    print(f"clinician review page on http://{args.host}:{server.port}/ (waitress)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
