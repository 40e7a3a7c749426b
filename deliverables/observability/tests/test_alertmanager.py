"""Alerts reach a receiver: the Alertmanager configuration in kube-prometheus-stack's values
(deliverables/deploy/kubernetes/monitoring/values.yaml) is valid, every alert of the order
system's rules routes to the `order-system` receiver, Watchdog to `watchdog`, and the stack's own
alerts are left to the default receiver.

    python3 -m unittest discover -s deliverables/observability/tests -p 'test_*.py'

Needs amtool on PATH (tests/install-prometheus.sh unpacks it; scripts/checks/observability.sh
puts it there) and PyYAML.
"""

import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
VALUES = ROOT / "deliverables/deploy/kubernetes/monitoring/values.yaml"
RULES = ROOT / "deliverables/deploy/kubernetes/charts/microservices/files/rules"


def order_system_alerts():
    """(name, labels) of every alerting rule in the rules files."""
    for path in sorted(RULES.glob("*.yaml")):
        for group in yaml.safe_load(path.read_text(encoding="utf-8"))["groups"]:
            for rule in group["rules"]:
                if "alert" in rule:
                    yield rule["alert"], rule.get("labels", {})


class AlertmanagerRoutesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.amtool = shutil.which("amtool")
        if not cls.amtool:
            raise AssertionError("amtool is not on PATH: deliverables/observability/tests/install-prometheus.sh installs it")
        config = yaml.safe_load(VALUES.read_text(encoding="utf-8"))["alertmanager"]["config"]
        cls.tmp = tempfile.TemporaryDirectory()
        cls.config = Path(cls.tmp.name) / "alertmanager.yaml"
        cls.config.write_text(yaml.safe_dump(config), encoding="utf-8")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def receiver(self, **labels):
        """The receiver(s) amtool resolves for an alert with these labels."""
        result = subprocess.run(
            [self.amtool, "config", "routes", "test", "--config.file", str(self.config)]
            + [f"{key}={value}" for key, value in labels.items()],
            capture_output=True, text=True, check=True)
        return result.stdout.strip()

    def test_the_configuration_is_valid(self):
        result = subprocess.run([self.amtool, "check-config", str(self.config)], capture_output=True, text=True)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_every_order_system_alert_reaches_its_receiver(self):
        alerts = list(order_system_alerts())
        self.assertGreater(len(alerts), 5, "no alerts found in the rules files")
        for name, labels in alerts:
            with self.subTest(alert=name):
                self.assertEqual(self.receiver(alertname=name, namespace="orders", **labels), "order-system")

    def test_watchdog_shows_the_pipeline_works(self):
        self.assertEqual(self.receiver(alertname="Watchdog", severity="none"), "watchdog")

    def test_the_stacks_own_alerts_keep_the_default_receiver(self):
        for name in ("KubePodCrashLooping", "TargetDown", "KubeDeploymentReplicasMismatch"):
            with self.subTest(alert=name):
                self.assertEqual(self.receiver(alertname=name, namespace="orders", severity="warning"), "null")


if __name__ == "__main__":
    unittest.main()
