"""The README's daily-use section is a script: its code block, taken from README.md as it
stands, runs line by line on a fresh database in an empty folder, each person acting
with their own token. README and program cannot drift apart."""
from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from cli_helpers import ROOT


def daily_use_block() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## 日常使用", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, re.S).group(1)
    return [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def test_daily_use_runs_line_by_line(tmp_path):
    lines = daily_use_block()
    assert any("duban login --token-stdin" in line for line in lines)
    assert not any(re.search(r"(^|\s)--as\s", line) for line in lines)  # tokens, not --as
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    bin_dir = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUBAN_")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", XDG_CONFIG_HOME=str(tmp_path / "xdg"))
    outputs = {}
    for line in lines:
        if line.startswith("export "):
            for assignment in shlex.split(line.split("#", 1)[0])[1:]:
                name, value = assignment.split("=", 1)
                env[name] = value
            continue
        proc = subprocess.run(["bash", "-o", "pipefail", "-c", line], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, f"README 的这一行失败了:{line}\n{proc.stderr}"
        outputs[line] = proc.stdout
    # what the walk-through shows actually happened
    mine = next(out for line, out in outputs.items() if line.startswith("duban task list --mine"))
    assert "装财处" in mine and "科监处" not in mine
    history = next(out for line, out in outputs.items() if "task history 1 --json" in line)
    assert [e["trigger"] for e in __import__("json").loads(history)] == [
        "distribute", "start", "submit", "send_back", "submit"]
    assert not list(tmp_path.glob("*.token"))  # the walk-through removes its token files
