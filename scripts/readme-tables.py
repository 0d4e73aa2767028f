#!/usr/bin/env python3
"""Rewrites the README's input and output tables from action.yml.

The test suite (tests/integration/action.rs) fails when they differ; run this
after changing the interface (src/inputs/spec.rs, then action.yml).
"""
import re
import sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
lines = (root / "action.yml").read_text().split("\n")
section, cur, data = None, None, {"inputs": [], "outputs": []}
for line in lines:
    if line in ("inputs:", "outputs:"):
        section = line[:-1]
        continue
    if line.startswith("runs:"):
        section = None
    if section is None:
        continue
    m = re.match(r"^  ([a-z-]+):$", line)
    if m:
        cur = {"name": m.group(1)}
        data[section].append(cur)
        continue
    m = re.match(r"^    (description|required|default|value): (.*)$", line)
    if m:
        value = m.group(2)
        if value.startswith("'"):
            value = value[1:-1].replace("''", "'")
        cur[m.group(1)] = value


def esc(s):
    return s.replace("|", "\\|")


inputs = ["| input | default | description |", "|---|---|---|"]
for i in data["inputs"]:
    if i.get("required") == "true":
        default = "**required**"
    elif i.get("default"):
        default = "`" + i["default"] + "`"
    else:
        default = "—"
    inputs.append("| `" + i["name"] + "` | " + default + " | " + esc(i["description"]) + " |")
outputs = ["| output | description |", "|---|---|"]
for o in data["outputs"]:
    outputs.append("| `" + o["name"] + "` | " + esc(o["description"]) + " |")

readme = (root / "README.md").read_text()
for name, rows in (("inputs", inputs), ("outputs", outputs)):
    start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
    a = readme.index(start) + len(start)
    b = readme.index(end, a)
    readme = readme[:a] + "\n".join(rows) + "\n" + readme[b:]
(root / "README.md").write_text(readme)
sys.exit(0)
