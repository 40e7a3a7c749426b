#!/usr/bin/env python3
"""Runs every dashboard query, every variable query and every rule against a
live Prometheus that scrapes the order system, and fails when one returns no
data.

    live_queries.py --prometheus URL --dashboards DIR [--var NAME=VALUE]...
                    [--rule-groups REGEX] [--evaluated-after EPOCH]

For each query that does not need Kubernetes it checks that
  - the query itself returns at least one series with a number (not only NaN);
  - every selector in it matches series somewhere in the last hour, so an
    "or 0 * …" fallback cannot hide a renamed metric, label or label value.
Queries on series only Kubernetes has (cAdvisor, kube-state-metrics) are sent
too, so Prometheus parses them, and listed as "syntax only".
Rules (those of the groups --rule-groups matches, default all): every rule group loaded, every rule evaluated without error, every
recording rule has data, and the selectors of every rule match series.
With --evaluated-after, it first waits (up to a minute) until every selected
rule group has been evaluated after that time, so the last traffic is in the
recorded series. Standard library only.
"""

import argparse
import json
import math
import re
import sys
import time
from datetime import datetime
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dashboards  # noqa: E402  (the sibling module, found through sys.path)

LOOKBACK = "1h"


class Prometheus:
    def __init__(self, url):
        self.url = url.rstrip("/")

    def get(self, path, **params):
        query = urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=30) as response:
                body = json.load(response)
        except urllib.error.HTTPError as err:
            body = json.load(err)
        if body.get("status") != "success":
            raise ValueError(f"{body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr):
        return self.get("/api/v1/query", query=expr)["result"]


def finite(series):
    value = float(series["value"][1])
    return not math.isnan(value)


class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0
        self.syntax_only = []

    def ok(self, text):
        self.passed += 1
        print(f"  ok    {text}")

    def fail(self, text):
        self.failed += 1
        print(f"  FAIL  {text}")


def check_selectors(prometheus, report, where, expr):
    """Each selector must match a series seen in the lookback window."""
    missing = []
    for _, selector in dashboards.selectors(expr):
        if not prometheus.query(f"count(last_over_time({selector}[{LOOKBACK}]))"):
            missing.append(selector)
    if missing:
        report.fail(f"{where}: no series ever matched {', '.join(missing)}")
        return False
    return True


def check_query(prometheus, report, where, expr):
    try:
        result = prometheus.query(expr)
    except ValueError as err:
        report.fail(f"{where}: Prometheus rejected the query: {err}")
        return
    if dashboards.is_kubernetes_only(expr):
        report.passed += 1
        report.syntax_only.append(where)
        return
    if not result:
        report.fail(f"{where}: no data\n          {expr}")
        return
    if not any(finite(s) for s in result):
        report.fail(f"{where}: only NaN (no recent traffic?)\n          {expr}")
        return
    if check_selectors(prometheus, report, where, expr):
        report.ok(f"{where}: {len(result)} series")


def rule_groups(prometheus, group_pattern):
    """The loaded rule groups whose name matches."""
    return [g for g in prometheus.get("/api/v1/rules")["groups"] if group_pattern.fullmatch(g["name"])]


def check_rules(prometheus, report, group_pattern):
    groups = rule_groups(prometheus, group_pattern)
    if not groups:
        report.fail(f"Prometheus loaded no rule groups matching {group_pattern.pattern!r}")
    for group in groups:
        for rule in group["rules"]:
            name = rule.get("name")
            where = f"rule {group['name']} / {name}"
            if rule.get("health") != "ok":
                report.fail(f"{where}: health {rule.get('health')}: {rule.get('lastError')}")
                continue
            expr = rule["query"]
            if dashboards.is_kubernetes_only(expr):
                report.passed += 1
                report.syntax_only.append(where)
            elif rule["type"] == "recording":
                check_query(prometheus, report, where, name)
                check_selectors(prometheus, report, f"{where} (its expression)", expr)
            else:
                # An alert's expression is empty when all is well; what it
                # reads must exist.
                if check_selectors(prometheus, report, where, expr):
                    report.ok(f"{where}: evaluated, its series exist")


def wait_for_evaluation(prometheus, group_pattern, after, timeout=60.0):
    """Polls the rules API until every selected group's last evaluation is later than `after`."""
    deadline = time.monotonic() + timeout
    while True:
        groups = rule_groups(prometheus, group_pattern)
        behind = [g["name"] for g in groups
                  if datetime.fromisoformat(g["lastEvaluation"]).timestamp() <= after]
        if groups and not behind:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"rule groups not evaluated after {after} within {timeout:.0f} s: "
                               f"{', '.join(behind) or 'no group matches'}")
        time.sleep(0.5)


def check_variables(prometheus, report, directory, overrides):
    for dashboard, name, selector, label in dashboards.variable_queries(directory, overrides):
        where = f"{dashboard} / variable {name}"
        if dashboards.is_kubernetes_only(selector):
            prometheus.query(f"count({selector})")
            report.passed += 1
            report.syntax_only.append(where)
            continue
        result = prometheus.query(f"count by ({label}) ({selector})")
        if not result:
            report.fail(f"{where}: {selector} matches nothing")
            continue
        values = sorted(s["metric"].get(label, "") for s in result)
        report.ok(f"{where}: {label} values {values} ('' = no such label, e.g. no namespace outside Kubernetes)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prometheus", required=True)
    parser.add_argument("--dashboards", required=True)
    parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                        help="value for a dashboard variable, as Grafana would substitute it")
    parser.add_argument("--rule-groups", default=".*", metavar="REGEX",
                        help="check only the rule groups whose name matches (default: all)")
    parser.add_argument("--evaluated-after", type=float, metavar="EPOCH",
                        help="first wait until those groups were evaluated after this Unix time")
    args = parser.parse_args()
    overrides = {}
    for item in args.var:
        name, sep, value = item.partition("=")
        if not sep:
            parser.error(f"--var {item!r}: expected NAME=VALUE")
        overrides[name] = value

    try:
        group_pattern = re.compile(args.rule_groups)
    except re.error as err:
        parser.error(f"--rule-groups {args.rule_groups!r}: {err}")
    prometheus = Prometheus(args.prometheus)
    report = Report()
    if args.evaluated_after is not None:
        wait_for_evaluation(prometheus, group_pattern, args.evaluated_after)
    print("rules:")
    check_rules(prometheus, report, group_pattern)
    print("dashboard variables:")
    check_variables(prometheus, report, args.dashboards, overrides)
    print("dashboard queries:")
    for query in dashboards.queries(args.dashboards, overrides):
        check_query(prometheus, report, query.where, query.expr)
    if report.syntax_only:
        print("syntax only (these series exist only on Kubernetes):")
        for where in report.syntax_only:
            print(f"  -     {where}")
    print(f"live queries: {report.passed} passed ({len(report.syntax_only)} of them syntax only), "
          f"{report.failed} failed")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
