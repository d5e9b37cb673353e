"""The bench's figures: aggregation over rounds, the goals of issue 8, the stdout table and the README block.

``bench/run.py`` collects one value per figure, per site (``mfa`` and ``plain``), per round; this module
turns those into median and spread, the MFA/plain ratio, and text. It reads nothing but the results
dictionary, so ``bench/run.py --markdown`` can render a saved JSON file again.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

SITES = ("plain", "mfa")


@dataclass(frozen=True)
class Figure:
    key: str
    label: str
    unit: str
    digits: int = 1


# The figures, in table order. Keys are stable: the JSON, the smoke test and the goals refer to them.
FIGURES = [
    Figure("flow.authorizations_per_core_s", "complete authorizations / s / core", "/s/core"),
    Figure("flow.authorizations_per_s", "complete authorizations / s (wall, load generator on the same cores)", "/s"),
    Figure("flow.cpu_ms_per_flow", "server CPU per complete flow", "ms"),
    Figure("flow.cpu_ms_per_flow_excl_hash", "server CPU per flow, password hash subtracted", "ms"),
    Figure("step.authorize.p50_ms", "GET /o/authorize/ (to login) p50", "ms"),
    Figure("step.authorize.p95_ms", "GET /o/authorize/ (to login) p95", "ms"),
    Figure("step.login_get.p50_ms", "login page GET p50", "ms"),
    Figure("step.login_get.p95_ms", "login page GET p95", "ms"),
    Figure("step.login.p50_ms", "login POST (password) p50", "ms"),
    Figure("step.login.p95_ms", "login POST (password) p95", "ms"),
    Figure("step.challenge_post.p50_ms", "challenge POST (TOTP) p50", "ms"),
    Figure("step.challenge_post.p95_ms", "challenge POST (TOTP) p95", "ms"),
    Figure("step.consent_get.p50_ms", "consent GET p50", "ms"),
    Figure("step.consent_get.p95_ms", "consent GET p95", "ms"),
    Figure("step.consent_post.p50_ms", "consent POST p50", "ms"),
    Figure("step.consent_post.p95_ms", "consent POST p95", "ms"),
    Figure("step.token.p50_ms", "token (authorization_code) p50", "ms"),
    Figure("step.token.p95_ms", "token (authorization_code) p95", "ms"),
    Figure("grant.authorization_code.per_core_s", "token endpoint: authorization_code (public, PKCE)", "/s/core"),
    Figure("grant.refresh_token.per_core_s", "token endpoint: refresh_token", "/s/core"),
    Figure("grant.client_credentials.per_core_s", "token endpoint: client_credentials (confidential)", "/s/core"),
    Figure("introspection.per_core_s", "introspection requests / s / core", "/s/core"),
    Figure("sql.per_flow", "SQL statements per complete flow", "", 0),
    Figure("sql.authorize", "SQL: GET /o/authorize/ (to login)", "", 0),
    Figure("sql.login_get", "SQL: login page GET", "", 0),
    Figure("sql.login", "SQL: login POST (password)", "", 0),
    Figure("sql.challenge_post", "SQL: challenge POST (TOTP)", "", 0),
    Figure("sql.consent_get", "SQL: consent GET", "", 0),
    Figure("sql.consent_post", "SQL: consent POST", "", 0),
    Figure("sql.token", "SQL: token (authorization_code)", "", 0),
    Figure("cpu.authorize_ms", "server CPU: GET /o/authorize/ (to login)", "ms"),
    Figure("cpu.login_get_ms", "server CPU: login page GET", "ms"),
    Figure("cpu.login_ms", "server CPU: login POST (password)", "ms"),
    Figure("cpu.challenge_post_ms", "server CPU: challenge POST (TOTP)", "ms"),
    Figure("cpu.consent_get_ms", "server CPU: consent GET", "ms"),
    Figure("cpu.consent_post_ms", "server CPU: consent POST", "ms"),
    Figure("cpu.token_ms", "server CPU: token (authorization_code)", "ms"),
    Figure("memory.peak_rss_mb_per_worker", "peak RSS per web worker", "MB"),
]
FIGURE_KEYS = [f.key for f in FIGURES]
SMS_FIGURES = [
    Figure("sms.request_p50_ms", "SMS 'send me a code' request p50, Twilio answering after 2 s", "ms"),
    Figure("sms.request_p95_ms", "SMS 'send me a code' request p95, Twilio answering after 2 s", "ms"),
    Figure("sms.codes_per_s_one_worker", "SMS codes / s, request to Twilio request, one Celery worker", "/s"),
]


def spread(values: list[float]) -> dict:
    """Median, min, max and the values themselves (``None`` when there are none)."""
    clean = [v for v in values if v is not None]
    if not clean:
        return {"median": None, "min": None, "max": None, "rounds": values}
    return {"median": statistics.median(clean), "min": min(clean), "max": max(clean), "rounds": values}


def aggregate(rounds: list[dict[str, dict[str, float | None]]]) -> dict:
    """``rounds[i][site][key]`` -> per figure: each site's spread and the ratio MFA / plain.

    The ratio is the median of the per-round ratios: the two sites of one round ran back to back, so
    pairing them cancels the machine's drift between rounds (that is what alternating is for).
    """
    figures = {}
    for figure in FIGURES:
        entry = {"label": figure.label, "unit": figure.unit}
        for site in SITES:
            entry[site] = spread([r[site].get(figure.key) for r in rounds])
        paired = [
            r["mfa"][figure.key] / r["plain"][figure.key]
            for r in rounds
            if r["mfa"].get(figure.key) is not None and r["plain"].get(figure.key)
        ]
        entry["ratio"] = statistics.median(paired) if paired else None
        figures[figure.key] = entry
    return figures


def _median(results: dict, key: str, site: str = "mfa") -> float | None:
    entry = results["figures"].get(key) or {}
    return (entry.get(site) or {}).get("median")


def _ratio(results: dict, key: str) -> float | None:
    return (results["figures"].get(key) or {}).get("ratio")


def goals(results: dict) -> list[dict]:
    """Issue 8's goals against this run: what was asked, what was measured, met or not (None: not measured)."""
    rows = []

    def add(goal: str, value: float | None, target: float, higher_is_better: bool, shown: str) -> None:
        met = None if value is None else (value >= target if higher_is_better else value <= target)
        rows.append({"goal": goal, "value": value, "target": target, "met": met, "shown": shown})

    def fmt(value: float | None, pattern: str) -> str:
        return "not measured" if value is None else pattern.format(value)

    v = _median(results, "flow.authorizations_per_core_s")
    add("≥ 15 complete MFA authorizations / s / core", v, 15, True, fmt(v, "{:.1f} /s/core"))
    v = _ratio(results, "flow.authorizations_per_core_s")
    add("MFA / plain DOT ≥ 0.9 in completed authorizations (per core)", v, 0.9, True, fmt(v, "{:.2f}×"))
    v = _ratio(results, "flow.cpu_ms_per_flow")
    add("server CPU per flow ≤ 1.05× plain DOT, password hash included", v, 1.05, False, fmt(v, "{:.2f}×"))
    v = _ratio(results, "flow.cpu_ms_per_flow_excl_hash")
    add("server CPU per flow ≤ 1.5× plain DOT, password hash excluded", v, 1.5, False, fmt(v, "{:.2f}×"))
    for grant, label in (
        ("authorization_code", "authorization_code"),
        ("refresh_token", "refresh"),
        ("client_credentials", "client_credentials"),
    ):
        key = f"grant.{grant}.per_core_s"
        v = _median(results, key)
        add(f"token endpoint ≥ 120 {label} grants / s / core", v, 120, True, fmt(v, "{:.0f} /s/core"))
        v = _ratio(results, key)
        add(f"token endpoint {label} ≥ 0.95× plain DOT", v, 0.95, True, fmt(v, "{:.2f}×"))
    mfa_sql, plain_sql = _median(results, "sql.per_flow"), _median(results, "sql.per_flow", "plain")
    extra = None if mfa_sql is None or plain_sql is None else mfa_sql - plain_sql
    add("SQL per flow ≤ plain DOT + 8", extra, 8, False, fmt(extra, "plain + {:.0f}"))
    # The login answers with the challenge page (mfa_oauth.oauth.after_login): the step is its POST.
    worst = _median(results, "sql.challenge_post")
    add("SQL of the challenge step ≤ 4 (its TOTP POST)", worst, 4, False, fmt(worst, "{:.0f}"))
    v = ((results.get("sms") or {}).get("figures") or {}).get("sms.request_p95_ms")
    add("SMS request p95 ≤ 20 ms while Twilio takes 2 s", v, 20, False, fmt(v, "{:.1f} ms"))
    return rows


def _num(value: float | None, digits: int) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def _cell(entry: dict, digits: int, markdown: bool) -> str:
    if entry["median"] is None:
        return "–"
    text = _num(entry["median"], digits)
    if len([v for v in entry["rounds"] if v is not None]) > 1 and entry["min"] != entry["max"]:
        text += f" ({_num(entry['min'], digits)}–{_num(entry['max'], digits)})"
    return text


def table_rows(results: dict, markdown: bool = False) -> list[tuple[str, str, str, str]]:
    rows = []
    for figure in FIGURES:
        entry = results["figures"][figure.key]
        label = f"{figure.label} [{figure.unit}]" if figure.unit else figure.label
        ratio = entry["ratio"]
        rows.append(
            (
                label,
                _cell(entry["plain"], figure.digits, markdown),
                _cell(entry["mfa"], figure.digits, markdown),
                "–" if ratio is None else f"{ratio:.2f}×",
            )
        )
    sms = (results.get("sms") or {}).get("figures") or {}
    for figure in SMS_FIGURES:
        label = f"{figure.label} [{figure.unit}]"
        rows.append((label, "n/a", _num(sms.get(figure.key), figure.digits), ""))
    return rows


def machine_line(meta: dict) -> str:
    m = meta["machine"]
    load = meta.get("load_average") or {}
    busy = ""
    if load.get("before") is not None:
        busy = f" (1-min load average {load['before']:.1f} before the run, {load.get('after') or 0:.1f} at its end)"
    return (
        f"{m['cpu_model']}, {m['cores']} cores{busy}; Python {m['python']}, Django {m['django']}, "
        f"django-oauth-toolkit {m['django_oauth_toolkit']}, gunicorn {m['gunicorn']} ({meta['workers']} sync workers "
        f"per site); database: {meta['database']}; cache: {meta['cache']}; password hasher: "
        f"{results_hasher(meta)}"
    )


def results_hasher(meta: dict) -> str:
    hasher = meta.get("hasher") or {}
    return f"{hasher.get('algorithm', '?')} ({hasher.get('cpu_ms', 0):.1f} ms CPU per check)"


def text_table(results: dict) -> str:
    meta = results["meta"]
    head = ("figure", "plain DOT median (min–max)", "mfa_oauth median (min–max)", "MFA/plain")
    rows = [head, *table_rows(results)]
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = [
        f"bench: {meta['rounds']} rounds alternating the sites, {meta['duration']} s load phases, "
        f"{meta['users']} concurrent clients, {meta['took_s']:.0f} s in all",
        machine_line(meta),
        "",
    ]
    if results.get("four_sites"):
        lines += [
            "four sites, same work (password + TOTP + consent + code + token with PKCE):",
            "",
            four_site_text(results),
            "",
            "ours against plain DOT in detail:",
            "",
        ]
    for i, row in enumerate(rows):
        lines.append(
            "  ".join(cell.ljust(widths[j]) if j == 0 else cell.rjust(widths[j]) for j, cell in enumerate(row))
        )
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    lines.append("")
    if sms_detail(results):
        lines += [sms_detail(results), ""]
    lines.append("goals (issue 8):")
    for goal in results["goals"]:
        mark = {True: "met    ", False: "NOT met", None: "n/a    "}[goal["met"]]
        lines.append(f"  [{mark}] {goal['goal']}: {goal['shown']}")
    errors = results.get("errors") or {}
    lines.append(f"errors: {errors}")
    return "\n".join(lines)


def sms_detail(results: dict) -> str:
    """The SMS request as gunicorn saw it (its access log) and the worker's CPU for it, when measured."""
    sms = results.get("sms") or {}
    if sms.get("server_side_p50_ms") is None:
        return sms.get("skipped", "") and f"SMS figures not measured: {sms['skipped']}."
    cpu = sms.get("server_cpu_p50_ms")
    return (
        f"SMS request as gunicorn logged it: p50 {sms['server_side_p50_ms']:.0f} ms, p95 "
        f"{sms['server_side_p95_ms']:.0f} ms; worker CPU per request (median) "
        f"{'–' if cpu is None else f'{cpu:.1f}'} ms; {sms['requests_with_slow_twilio']} requests while Twilio "
        f"took {sms['slow_twilio_seconds']:.0f} s per message; the codes/s burst was {sms['burst']} requests."
    )


def markdown(results: dict) -> str:
    """The README's benchmark block (between the ``bench:start``/``bench:end`` markers)."""
    meta = results["meta"]
    lines = [
        f"Latest run ({meta['finished'][:10]}, `bench/run.py --rounds {meta['rounds']} --duration {meta['duration']}`, "
        f"{meta['users']} concurrent clients): {machine_line(meta)}.",
        "",
    ]
    if results.get("four_sites"):
        peers = meta.get("peers") or {}
        lines += [
            "Four sites, the same work (password + TOTP + consent + code + token with PKCE), "
            f"medians (min–max) over rounds; peers: {'; '.join(peers.values())}:",
            "",
            four_site_text(results, markdown=True),
            "",
            "Ours against plain DOT in detail:",
            "",
        ]
    lines += [
        "| figure | plain DOT median (min–max) | mfa_oauth median (min–max) | MFA/plain |",
        "| --- | ---: | ---: | ---: |",
    ]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in table_rows(results, markdown=True)]
    sms_line = sms_detail(results)
    if sms_line:
        lines += ["", sms_line]
    lines += ["", "Where we stand against issue 8's goals:", ""]
    for goal in results["goals"]:
        mark = {True: "met", False: "**not met**", None: "not measured"}[goal["met"]]
        lines.append(f"- {goal['goal']}: {goal['shown']} — {mark}")
    return "\n".join(lines)


# --- the four-site comparison (ours, the two MFA peers, plain DOT) --------------------------------------

FOUR_SITES = ("mfa", "allauth", "two_factor", "plain")
SITE_TITLES = {
    "mfa": "ours (mfa_oauth)",
    "allauth": "allauth",
    "two_factor": "two-factor-auth + DOT",
    "plain": "plain DOT (no 2nd factor)",
}
STEP_TITLES = {
    "authorize": "authorize (to login)",
    "login_get": "login page GET",
    "login": "password POST",
    "challenge_get": "TOTP page GET",
    "challenge_post": "TOTP POST",
    "consent_get": "consent GET",
    "consent_post": "consent POST",
    "token": "token (code + PKCE)",
}
SITE_FIGURES = [
    Figure("flow.authorizations_per_core_s", "complete flows per server CPU-second", "/s"),
    Figure("flow.cpu_ms_per_flow", "server CPU per complete flow", "ms"),
    Figure("sql.per_flow", "SQL statements per complete flow", "", 0),
    *[Figure(f"sql.{step}", f"SQL: {title}", "", 0) for step, title in STEP_TITLES.items()],
    *[Figure(f"cpu.{step}_ms", f"server CPU: {title}", "ms") for step, title in STEP_TITLES.items()],
    *[
        Figure(f"step.{step}.{q}_ms", f"{title} {q}", "ms")
        for step, title in STEP_TITLES.items()
        for q in ("p50", "p95")
    ],
]


def aggregate_sites(rounds: list[dict[str, dict[str, float | None]]]) -> dict:
    """Per figure and site: the spread over rounds; per peer: the median of the per-round ours/peer ratio
    of flows per CPU-second (the pairs ran in the same round, so the machine's drift cancels)."""
    sites = [s for s in FOUR_SITES if all(s in r for r in rounds)]
    out: dict = {"sites": sites, "figures": {}, "ratios": {}}
    for figure in SITE_FIGURES:
        entry = {"label": figure.label, "unit": figure.unit, "digits": figure.digits}
        for site in sites:
            entry[site] = spread([r[site].get(figure.key) for r in rounds])
        out["figures"][figure.key] = entry
    key = "flow.authorizations_per_core_s"
    for site in sites:
        if site == "mfa":
            continue
        paired = [r["mfa"][key] / r[site][key] for r in rounds if r["mfa"].get(key) and r[site].get(key)]
        out["ratios"][site] = spread(paired)
    return out


def four_site_rows(results: dict) -> list[list[str]]:
    four = results.get("four_sites")
    if not four:
        return []
    sites = four["sites"]
    rows = [["", *(SITE_TITLES[s] for s in sites)]]
    figures = four["figures"]

    def row(key: str) -> list[str]:
        entry = figures[key]
        label = f"{entry['label']} [{entry['unit']}]" if entry["unit"] else entry["label"]
        return [label, *(_cell(entry[s], entry["digits"], True) for s in sites)]

    rows.append(row("flow.authorizations_per_core_s"))
    ratio = ["flows per CPU-second, ours / this site"]
    for s in sites:
        r = four["ratios"].get(s)
        ratio.append(
            "–"
            if not r or r["median"] is None
            else _cell(r, 2, True).replace(" (", "× (") + ("" if " (" in _cell(r, 2, True) else "×")
        )
    rows.append(ratio)
    rows.append(row("flow.cpu_ms_per_flow"))
    rows.append(row("sql.per_flow"))
    steps = list(STEP_TITLES)
    rows.append(
        ["SQL per step: " + " / ".join(STEP_TITLES[s] for s in steps)]
        + [" / ".join(_num(figures[f"sql.{st}"][s]["median"], 0) for st in steps) for s in sites]
    )
    rows.append(
        ["server CPU per step [ms], same order"]
        + [" / ".join(_num(figures[f"cpu.{st}_ms"][s]["median"], 1) for st in steps) for s in sites]
    )
    rows.append(
        ["p50 per step [ms], same order"]
        + [" / ".join(_num(figures[f"step.{st}.p50_ms"][s]["median"], 0) for st in steps) for s in sites]
    )
    rows.append(
        ["p95 per step [ms], same order"]
        + [" / ".join(_num(figures[f"step.{st}.p95_ms"][s]["median"], 0) for st in steps) for s in sites]
    )
    return rows


def four_site_goals(results: dict) -> list[dict]:
    """The goals of the comparison with the MFA alternatives: ratios of flows per CPU-second and SQL."""
    four = results.get("four_sites")
    if not four:
        return []
    rows = []

    def add(goal: str, value: float | None, target: float, higher: bool, shown: str) -> None:
        met = None if value is None else (value >= target if higher else value <= target)
        rows.append({"goal": goal, "value": value, "target": target, "met": met, "shown": shown})

    for site, target in (("two_factor", 1.1), ("allauth", 1.5), ("plain", 0.85)):
        v = (four["ratios"].get(site) or {}).get("median")
        add(f"flows per CPU-second ≥ {target}× {SITE_TITLES[site]}", v, target, True, "–" if v is None else f"{v:.2f}×")
    for key, target, label in (
        ("sql.per_flow", 40, "SQL per complete flow ≤ 40"),
        ("sql.token", 16, "token request ≤ 16 SQL statements"),
    ):
        v = four["figures"][key]["mfa"]["median"]
        add(label, v, target, False, "–" if v is None else f"{v:.0f}")
    return rows


def four_site_text(results: dict, markdown: bool = False) -> str:
    rows = four_site_rows(results)
    if not rows:
        return ""
    if markdown:
        lines = ["| " + " | ".join(rows[0]) + " |", "|---" + "|---:" * (len(rows[0]) - 1) + "|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    else:
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(c.ljust(widths[j]) if j == 0 else c.rjust(widths[j]) for j, c in enumerate(r)) for r in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    for goal in four_site_goals(results):
        mark = {True: "met", False: "NOT met", None: "not measured"}[goal["met"]]
        lines.append(f"{'- ' if markdown else '  '}{goal['goal']}: {goal['shown']} — {mark}")
    return "\n".join(lines)
