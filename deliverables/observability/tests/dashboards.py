#!/usr/bin/env python3
"""Static checks of the Grafana dashboards, and the PromQL they contain.

    dashboards.py lint DIR            structure checks; exit 1 on any finding
    dashboards.py rules-file DIR      every expression as a Prometheus rules file
                                      (for `promtool check rules`: a syntax check
                                      that needs no server)

live_queries.py imports this module to run the same expressions against a
live Prometheus. Standard library only: it runs on a fresh machine.
"""

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
# Windows a dashboard query may use: Grafana's rate interval (at least four
# scrape intervals, grows with the zoom) or the whole picked time range (for
# totals in instant queries). A fixed "[5m]" goes stale when the scrape
# interval or the zoom changes.
RANGE_VARIABLES = ("$__rate_interval", "$__range")
BUILTIN_VARIABLES = {"__rate_interval": "1m", "__range": "1h", "__interval": "15s"}
# Series only a Kubernetes cluster with kube-prometheus-stack has (cAdvisor,
# kube-state-metrics, node-exporter, kubelet).
KUBERNETES_PREFIXES = ("container_", "kube_", "node_", "kubelet_", "machine_")

VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")
QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
SELECTOR = re.compile(r'([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{((?:[^{}"]|"(?:[^"\\]|\\.)*")*)\}')
RECORDED_NAME = re.compile(r"(?<![\w:])([a-zA-Z_][a-zA-Z0-9_]*:[a-zA-Z0-9_:]*)")
RANGE = re.compile(r"\[([^\]]+)\]")
LABEL_VALUES = re.compile(r"^\s*label_values\((.*),\s*(\w+)\s*\)\s*$")
UID = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


@dataclass
class Query:
    dashboard: str
    panel: str
    ref: str
    raw: str
    expr: str  # variables substituted
    instant: bool

    @property
    def where(self):
        return f"{self.dashboard} / {self.panel} / {self.ref}"

    @property
    def kubernetes_only(self):
        return is_kubernetes_only(self.expr)


def selectors(expr):
    """The vector selectors of an expression: `name{matchers}` and bare
    recording-rule names (they contain a colon). Good enough for the style
    of these dashboards and rules, not a PromQL parser."""
    found = [(m.group(1), m.group(0)) for m in SELECTOR.finditer(expr)]
    rest = QUOTED.sub('""', SELECTOR.sub(" ", expr))
    found += [(m.group(1), m.group(1)) for m in RECORDED_NAME.finditer(rest)]
    return found


def is_kubernetes_only(expr):
    unquoted = QUOTED.sub('""', expr)
    return any(re.search(rf"(?<![\w:]){prefix}[a-zA-Z0-9_:]*", unquoted) for prefix in KUBERNETES_PREFIXES)


def substitute(text, values):
    def replace(match):
        name = match.group(1) or match.group(2) or match.group(3)
        if name not in values:
            raise KeyError(name)
        return values[name]

    return VARIABLE.sub(replace, text)


def load(directory):
    dashboards = {}
    for path in sorted(Path(directory).glob("*.json")):
        with path.open(encoding="utf-8") as f:
            dashboards[path] = json.load(f)
    return dashboards


def all_panels(dashboard):
    """Every panel, including those nested in collapsed rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def variables(dashboard):
    return dashboard.get("templating", {}).get("list", [])


def default_values(dashboard, overrides=None):
    """Values Grafana would substitute: the "All" value where a variable
    offers one, else a placeholder that keeps the PromQL valid."""
    values = dict(BUILTIN_VARIABLES)
    for variable in variables(dashboard):
        if variable["type"] == "datasource":
            values[variable["name"]] = "prometheus"
        else:
            values[variable["name"]] = variable.get("allValue") or ".+"
    values.update(overrides or {})
    return values


def queries(directory, overrides=None):
    result = []
    for path, dashboard in load(directory).items():
        values = default_values(dashboard, overrides)
        for panel in all_panels(dashboard):
            for target in panel.get("targets", []):
                if "expr" in target:
                    result.append(Query(path.name, panel.get("title", "?"), target.get("refId", "?"),
                                        target["expr"], substitute(target["expr"], values),
                                        bool(target.get("instant"))))
    return result


def variable_queries(directory, overrides=None):
    """(dashboard, variable, selector, label) of each label_values() variable."""
    result = []
    for path, dashboard in load(directory).items():
        values = default_values(dashboard, overrides)
        for variable in variables(dashboard):
            if variable["type"] != "query":
                continue
            query = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
            match = LABEL_VALUES.match(query)
            if match:
                result.append((path.name, variable["name"], substitute(match.group(1), values), match.group(2)))
    return result


def lint_dashboard(path, dashboard):
    problems = []

    def problem(where, text):
        problems.append(f"{path.name}: {where}: {text}")

    uid = dashboard.get("uid", "")
    if not UID.match(uid):
        problem("uid", f"{uid!r} is not a fixed uid (lower case, digits, '-', at most 40)")
    if uid != path.stem:
        problem("uid", f"{uid!r} differs from the file name: keep them equal so links are predictable")
    for key in ("title", "schemaVersion", "time", "templating", "panels"):
        if key not in dashboard:
            problem("dashboard", f"missing {key}")

    names = {v["name"]: v for v in variables(dashboard)}
    datasource = names.get("datasource")
    if not datasource or datasource.get("type") != "datasource" or datasource.get("query") != "prometheus":
        problem("templating", "needs a variable 'datasource' of type datasource, query prometheus")
    for variable in variables(dashboard):
        if variable["type"] == "query" and variable.get("datasource") != DATASOURCE:
            problem(f"variable {variable['name']}", "must query the ${datasource} variable")
    known = set(names) | set(BUILTIN_VARIABLES)

    ids = {}
    areas = []
    for panel in all_panels(dashboard):
        title = panel.get("title") or "(untitled)"
        where = f"panel {panel.get('id')} {title!r}"
        if panel.get("id") in ids:
            problem(where, f"duplicate panel id (also {ids[panel.get('id')]!r})")
        ids[panel.get("id")] = title
        grid = panel.get("gridPos")
        if not grid:
            problem(where, "no gridPos")
        else:
            for other_title, other in areas:
                if (grid["x"] < other["x"] + other["w"] and other["x"] < grid["x"] + grid["w"]
                        and grid["y"] < other["y"] + other["h"] and other["y"] < grid["y"] + grid["h"]):
                    problem(where, f"overlaps {other_title!r}")
            areas.append((title, grid))
        if panel.get("type") == "row":
            continue
        if not panel.get("title"):
            problem(where, "no title")
        if not panel.get("description"):
            problem(where, "no description: say what the panel shows and how to read it")
        if panel.get("datasource") != DATASOURCE:
            problem(where, f"datasource must be {DATASOURCE}, is {panel.get('datasource')}")
        if not panel.get("fieldConfig", {}).get("defaults", {}).get("unit"):
            problem(where, "no unit (fieldConfig.defaults.unit)")
        targets = panel.get("targets", [])
        if not targets:
            problem(where, "no queries")
        refs = [t.get("refId") for t in targets]
        if len(set(refs)) != len(refs):
            problem(where, f"duplicate refIds {refs}")
        for target in targets:
            twhere = f"{where} query {target.get('refId')}"
            if target.get("datasource") != DATASOURCE:
                problem(twhere, f"datasource must be {DATASOURCE}")
            expr = target.get("expr", "")
            if not expr.strip():
                problem(twhere, "empty expression")
                continue
            for match in VARIABLE.finditer(expr):
                name = match.group(1) or match.group(2) or match.group(3)
                if name not in known:
                    problem(twhere, f"unknown variable ${name}")
            for window in RANGE.findall(expr):
                if window not in RANGE_VARIABLES:
                    problem(twhere, f"window [{window}]: use [$__rate_interval] (or [$__range] for totals)")
                if window == "$__range" and not target.get("instant"):
                    problem(twhere, "[$__range] belongs in an instant query (a total over the picked range)")
            for name, selector in selectors(expr):
                if "{" in selector and "$namespace" not in selector:
                    problem(twhere, f"{selector}: filter every selector by the dashboard's namespace variable")
    return problems


def lint(directory):
    dashboards = load(directory)
    if not dashboards:
        return [f"{directory}: no dashboards"]
    problems = []
    seen = {}
    for path, dashboard in dashboards.items():
        problems += lint_dashboard(path, dashboard)
        for key in ("uid", "title"):
            value = dashboard.get(key)
            if (key, value) in seen:
                problems.append(f"{path.name}: {key} {value!r} is also used by {seen[(key, value)]}")
            seen[(key, value)] = path.name
    return problems


def rules_file(directory):
    """Every expression as a recording rule, so promtool parses it. JSON is
    valid YAML, which spares a YAML dependency."""
    rules = [{"record": f"dashboard_query:{re.sub(r'[^a-zA-Z0-9_]', '_', q.dashboard)}:{i}",
              "expr": q.expr} for i, q in enumerate(queries(directory))]
    rules += [{"record": f"dashboard_variable:{re.sub(r'[^a-zA-Z0-9_]', '_', d)}:{name}",
               "expr": f"count by ({label}) ({selector})"}
              for d, name, selector, label in variable_queries(directory)]
    return json.dumps({"groups": [{"name": "dashboard-queries", "rules": rules}]}, indent=2)


def main(argv):
    if len(argv) != 3 or argv[1] not in ("lint", "rules-file"):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[1] == "rules-file":
        print(rules_file(argv[2]))
        return 0
    problems = lint(argv[2])
    for p in problems:
        print(f"  {p}")
    count = len(queries(argv[2]))
    print(f"{len(load(argv[2]))} dashboards, {count} queries: "
          f"{'OK' if not problems else f'{len(problems)} problems'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
