"""The doc rules find what they claim to find: each test writes a small
repository with one broken thing and expects the finding, and its good twin
passes.

    python3 -m unittest discover -s scripts/checks -p 'test_doc_rules.py'
"""

import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import doc_rules  # noqa: E402  (the sibling module, found through sys.path)

TEMPLATE = "\n\n".join(f"# {h}\n\nText." for h in doc_rules.TEMPLATE_HEADINGS) + "\n"
TARGETS = {"dev", "down", "tf-plan", "tf-apply", "help"}


class DocRulesTest(unittest.TestCase):
    def findings(self, files):
        """Findings for README.md in a repository holding FILES (path: text)."""
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            for name, text in files.items():
                (root / name).parent.mkdir(parents=True, exist_ok=True)
                (root / name).write_text(text, encoding="utf-8")
            names = [n for n in files if n.endswith(".md")]
            return [f for n in names for f in doc_rules.check_file(n, root, set(files), TARGETS)]

    def assertFinds(self, bad, good, expected):
        self.assertEqual(self.findings(good), [])
        found = self.findings(bad)
        self.assertTrue(any(expected in f for f in found), f"expected {expected!r} in {found}")

    def test_word_budget(self):
        budget = doc_rules.BUDGETS["README.md"]
        self.assertFinds({"README.md": "word " * (budget + 1)}, {"README.md": "word " * budget},
                         f"{budget + 1} words, over its budget of {budget}")

    def test_words_are_counted_as_wc_does(self):
        text = "a  b\n\n`c d`|e\t-- f [x](y.md#z) | --- |\n"
        wc = subprocess.run(["wc", "-w"], input=text, capture_output=True, text=True, check=True)
        self.assertEqual(doc_rules.words(text), int(wc.stdout))

    def test_decisions_log_keeps_the_template_headings(self):
        log = doc_rules.DECISIONS_LOG
        renamed = TEMPLATE.replace("# What is missing", "# Missing")
        self.assertFinds({log: renamed}, {log: TEMPLATE}, "are not the template's")
        extra = TEMPLATE + "\n# Appendix\n"
        self.assertFinds({log: extra}, {log: TEMPLATE}, "are not the template's")
        reordered = TEMPLATE.replace("# What could be improved", "# What is missing", 1).replace(
            "# What is missing\n", "# What could be improved\n", 1)
        self.assertFinds({log: reordered}, {log: TEMPLATE}, "are not the template's")

    def test_headings_in_code_blocks_do_not_count(self):
        log = doc_rules.DECISIONS_LOG
        self.assertEqual(self.findings({log: TEMPLATE + "\n```bash\n# a comment\n```\n"}), [])

    def test_relative_link_to_a_missing_file(self):
        self.assertFinds({"README.md": "See [it](docs/missing.md).\n", "docs/guide.md": "# Guide\n"},
                         {"README.md": "See [it](docs/guide.md).\n", "docs/guide.md": "# Guide\n"},
                         "docs/missing.md is not in the repository")

    def test_link_anchor_must_name_a_heading(self):
        guide = "# Guide\n\n## How to Test (locally)\n\n## Step\n\n## Step\n"
        good = "[a](docs/guide.md#how-to-test-locally) [b](docs/guide.md#step-1) [c](#top)\n\n# Top\n"
        self.assertFinds({"README.md": good.replace("#step-1", "#step-2"), "docs/guide.md": guide},
                         {"README.md": good, "docs/guide.md": guide},
                         "no heading with anchor #step-2 in docs/guide.md")

    def test_anchor_in_the_same_file(self):
        self.assertFinds({"README.md": "# A title\n\n[x](#a-titel)\n"},
                         {"README.md": "# A title\n\n[x](#a-title)\n"}, "no heading with anchor #a-titel")

    def test_links_in_code_are_not_links(self):
        self.assertEqual(self.findings({"README.md": "`[x](missing.md)`\n\n```text\n[y](gone.md)\n```\n"}), [])

    def test_unknown_make_target_in_a_block_and_in_prose(self):
        self.assertFinds({"README.md": "```bash\nmake dev tf-plan tf-aply\n```\n"},
                         {"README.md": "```bash\nmake dev tf-plan tf-apply   # make nothing-here\n```\n"},
                         "`make tf-aply` is not a make target")
        self.assertFinds({"README.md": "Run `make helm-apply`.\n"},
                         {"README.md": "Run `make help` or `make DOCTOR=1 dev`.\n"},
                         "`make helm-apply` is not a make target")

    def test_missing_script_path(self):
        self.assertFinds({"README.md": "Run `scripts/tset.sh`.\n", "scripts/test.sh": ""},
                         {"README.md": "Run `scripts/test.sh` or `ecr/scripts/upload.sh`.\n",
                          "scripts/test.sh": "", "deliverables/deploy/ecr/scripts/upload.sh": ""},
                         "path scripts/tset.sh is not in the repository")
        self.assertFinds({"README.md": "```bash\ndeliverables/deploy/ecs-ec2/terraform/Makefile\n```\n"},
                         {"README.md": "```bash\ndeliverables/deploy/ecs-ec2/terraform/terraform.tfvars\n```\n"},
                         "path deliverables/deploy/ecs-ec2/terraform/Makefile is not in the repository")

    def test_paths_from_the_compose_folder(self):
        self.assertEqual(self.findings({"README.md": "`scripts/test_docker_compose.sh`\n",
                                        "starter/apps/scripts/test_docker_compose.sh": ""}), [])


if __name__ == "__main__":
    unittest.main()
