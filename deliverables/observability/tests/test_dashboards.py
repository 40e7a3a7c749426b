"""The dashboard checks find what they claim to find: each test breaks one
thing in a copy of the real overview dashboard and expects the finding.

    python3 -m unittest discover -s deliverables/observability/tests -p 'test_*.py'
"""

import copy
import json
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import dashboards  # noqa: E402  (the sibling module, found through sys.path)

DASHBOARDS = Path(__file__).resolve().parents[2] / "deploy/kubernetes/charts/microservices/files/dashboards"
OVERVIEW = json.loads((DASHBOARDS / "order-system-overview.json").read_text(encoding="utf-8"))


def first_panel(dashboard, kind="timeseries"):
    return next(p for p in dashboard["panels"] if p["type"] == kind)


class LintTest(unittest.TestCase):
    def lint(self, *boards):
        with tempfile.TemporaryDirectory() as tmp:
            for board in boards:
                (Path(tmp) / f"{board['uid']}.json").write_text(json.dumps(board), encoding="utf-8")
            return "\n".join(dashboards.lint(tmp))

    def broken(self, change):
        board = copy.deepcopy(OVERVIEW)
        change(board)
        return self.lint(board)

    def test_the_real_dashboards_pass(self):
        self.assertEqual(dashboards.lint(DASHBOARDS), [])

    def test_panel_without_unit(self):
        found = self.broken(lambda b: first_panel(b)["fieldConfig"]["defaults"].pop("unit"))
        self.assertIn("no unit", found)

    def test_duplicate_panel_id(self):
        def change(b):
            panels = [p for p in b["panels"] if p["type"] != "row"]
            panels[1]["id"] = panels[0]["id"]
        self.assertIn("duplicate panel id", self.broken(change))

    def test_fixed_window(self):
        def change(b):
            target = first_panel(b)["targets"][0]
            target["expr"] = 'sum(rate(http_server_request_duration_seconds_count{namespace=~"$namespace"}[5m]))'
        self.assertIn("window [5m]", self.broken(change))

    def test_range_window_in_a_range_query(self):
        def change(b):
            target = first_panel(b)["targets"][0]
            target["expr"] = 'sum(increase(orders_total{namespace=~"$namespace"}[$__range]))'
        self.assertIn("[$__range] belongs in an instant query", self.broken(change))

    def test_panel_with_fixed_datasource(self):
        found = self.broken(lambda b: first_panel(b).update(datasource={"type": "prometheus", "uid": "prometheus"}))
        self.assertIn("datasource must be", found)

    def test_target_with_fixed_datasource(self):
        found = self.broken(lambda b: first_panel(b)["targets"][0].update(datasource={"uid": "abc"}))
        self.assertIn("query A: datasource must be", found)

    def test_missing_datasource_variable(self):
        def change(b):
            b["templating"]["list"] = [v for v in b["templating"]["list"] if v["name"] != "datasource"]
        self.assertIn("needs a variable 'datasource'", self.broken(change))

    def test_unknown_variable(self):
        def change(b):
            first_panel(b)["targets"][0]["expr"] = 'up{namespace=~"$namespace", cluster="$cluster"}'
        self.assertIn("unknown variable $cluster", self.broken(change))

    def test_selector_not_filtered_by_namespace(self):
        found = self.broken(lambda b: first_panel(b)["targets"][0].update(expr='up{job=~"$job"}'))
        self.assertIn("filter every selector", found)

    def test_overlapping_panels(self):
        def change(b):
            panels = [p for p in b["panels"] if p["type"] != "row"]
            panels[1]["gridPos"] = dict(panels[0]["gridPos"])
        self.assertIn("overlaps", self.broken(change))

    def test_uid_must_be_fixed_and_match_the_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            board = copy.deepcopy(OVERVIEW)
            board["uid"] = "Not A UID"
            (Path(tmp) / "order-system-overview.json").write_text(json.dumps(board), encoding="utf-8")
            found = "\n".join(dashboards.lint(tmp))
        self.assertIn("is not a fixed uid", found)
        self.assertIn("differs from the file name", found)

    def test_duplicate_uid_and_title_across_files(self):
        with tempfile.TemporaryDirectory() as tmp:
            for name in ("a.json", "b.json"):
                (Path(tmp) / name).write_text(json.dumps(OVERVIEW), encoding="utf-8")
            found = "\n".join(dashboards.lint(tmp))
        self.assertIn("uid 'order-system-overview' is also used by a.json", found)
        self.assertIn("title 'Order system / Overview' is also used by a.json", found)


class QueryTest(unittest.TestCase):
    def test_selectors_include_recorded_names_and_skip_quoted_text(self):
        expr = ('sum(rate(x_total{route="/orders/{order_id}", a=~"b"}[1m])) '
                '/ on () group_left () (1 - order_system:slo_objective:ratio)')
        self.assertEqual(dashboards.selectors(expr), [
            ("x_total", 'x_total{route="/orders/{order_id}", a=~"b"}'),
            ("order_system:slo_objective:ratio", "order_system:slo_objective:ratio")])

    def test_kubernetes_only(self):
        self.assertTrue(dashboards.is_kubernetes_only("count(kube_pod_info)"))
        self.assertTrue(dashboards.is_kubernetes_only('rate(container_cpu_usage_seconds_total{a="b"}[1m])'))
        self.assertFalse(dashboards.is_kubernetes_only('up{container="kube_x"}'))

    def test_variables_are_substituted_as_grafana_would(self):
        queries = dashboards.queries(DASHBOARDS, {"job": "(order-api)"})
        self.assertTrue(queries)
        for query in queries:
            self.assertNotIn("$", query.expr, query.where)
        self.assertTrue(any('job=~"(order-api)"' in q.expr for q in queries))
        self.assertTrue(any("[1m]" in q.expr for q in queries))

    def test_unknown_variable_is_an_error(self):
        with self.assertRaises(KeyError):
            dashboards.substitute("up{a=\"$nope\"}", {})


if __name__ == "__main__":
    unittest.main()
