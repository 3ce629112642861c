"""The README's Neovim snippet, copied verbatim, in a real headless Neovim (Debian's
``apt-get install neovim`` gives 0.7.2; ``make test`` installs it when missing).

Neovim's own LSP client talks to ``hpo-lsp`` (found on ``PATH``: this interpreter's
``bin`` folder): the test checks diagnostics, hover, completion and the code lens.
No timings are asserted; waits are hang guards only.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures"
NVIM = shutil.which("nvim")

pytestmark = pytest.mark.skipif(NVIM is None, reason="nvim is not installed (make test installs it with apt-get install neovim; that failed here)")

#: Run after init.lua: waits for the client's answers, writes them as JSON, quits.
PROBE = r"""
local out = {}
local buf = vim.api.nvim_get_current_buf()
local function client_of(b)
  for _, c in pairs(vim.lsp.buf_get_clients(b)) do return c end
end
local function find(pattern)
  for i, line in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    local col = line:find(pattern, 1, true)
    if col then return i - 1, col - 1 end
  end
end
local t0 = vim.loop.hrtime()
vim.wait(60000, function() return client_of(buf) ~= nil end, 50)
local client = client_of(buf)
out.client = client and client.name or nil
vim.wait(60000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
out.diagnostics_after = (vim.loop.hrtime() - t0) / 1e9
out.diagnostics = {}
for _, d in ipairs(vim.diagnostic.get(buf)) do
  table.insert(out.diagnostics, { code = d.code, message = d.message, lnum = d.lnum, source = d.source })
end
local uri = vim.uri_from_bufnr(buf)
local line, col = find("learning_rate")
local hover = vim.lsp.buf_request_sync(buf, "textDocument/hover", { textDocument = { uri = uri }, position = { line = line, character = col + 2 } }, 30000)
out.hover = {}
for _, r in pairs(hover or {}) do
  if r.result and r.result.contents then table.insert(out.hover, r.result.contents.value or r.result.contents) end
end
-- completion on the empty line under a new hyper-parameter's "- name:" (the kinds)
local nline, ncol = find("- name: learning_rate")
local indent = string.rep(" ", ncol)
vim.api.nvim_buf_set_lines(buf, nline, nline, false, { indent .. "- name: dropout", indent .. "  " })
local items = vim.lsp.buf_request_sync(buf, "textDocument/completion", { textDocument = { uri = uri }, position = { line = nline + 1, character = ncol + 2 } }, 30000)
out.completion = {}
for _, r in pairs(items or {}) do
  local list = r.result and (r.result.items or r.result) or {}
  for _, item in ipairs(list) do table.insert(out.completion, item.label) end
end
vim.api.nvim_buf_set_lines(buf, nline, nline + 2, false, {})
out.waited = {}
-- the code lens, as the README's on_attach refreshes it
vim.wait(60000, function() return #vim.lsp.codelens.get(buf) > 0 end, 50)
out.lenses = {}
for _, lens in ipairs(vim.lsp.codelens.get(buf)) do
  if lens.command then table.insert(out.lenses, lens.command.title) end
end
out.seconds = (vim.loop.hrtime() - t0) / 1e9
out.version = vim.version().major .. "." .. vim.version().minor .. "." .. vim.version().patch
vim.fn.writefile({ vim.fn.json_encode(out) }, vim.env.HPO_NVIM_OUT)
vim.cmd("qa!")
"""


def readme_snippet() -> str:
    """The first ```lua block after the README's **Neovim** heading, verbatim."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("**Neovim**")
    match = re.search(r"```lua\n(.*?)```", text[start:], re.S)
    assert match, "no lua block after **Neovim** in README.md"
    return match.group(1)


def test_the_readme_snippet_works_in_neovim(tmp_path: Path) -> None:
    (tmp_path / "init.lua").write_text(readme_snippet(), encoding="utf-8")
    (tmp_path / "probe.lua").write_text(PROBE, encoding="utf-8")
    manifest = tmp_path / "work" / "seed-typo.yaml"
    manifest.parent.mkdir()
    manifest.write_text((FIXTURES / "seed-typo.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "out.json"
    home = tmp_path / "home"
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "HPO_NVIM_OUT": str(out),
    }
    assert NVIM is not None
    completed = subprocess.run(
        [NVIM, "--headless", "-n", "-i", "NONE", "-u", str(tmp_path / "init.lua"), str(manifest), "-c", f"luafile {tmp_path / 'probe.lua'}"],
        cwd=manifest.parent, env=env, capture_output=True, text=True, timeout=300,
    )
    assert out.exists(), f"nvim wrote nothing (exit {completed.returncode}): {completed.stderr[-2000:]}{completed.stdout[-2000:]}"
    result = json.loads(out.read_text(encoding="utf-8"))

    print(f"Neovim {result['version']}: answers in {result['seconds']:.1f} s (diagnostics after {result['diagnostics_after']:.1f} s)")
    assert "Error" not in completed.stderr and "Error" not in completed.stdout, completed.stderr + completed.stdout
    assert result["client"] == "hpo-lsp"
    typo = [d for d in result["diagnostics"] if d["code"] == "HPO101"]
    assert len(typo) == 1 and 'step"' in typo[0]["message"] and typo[0]["source"] == "hpo"
    assert any("**learning_rate** · double_range" in text for text in result["hover"]), result["hover"]
    kinds = {"double_range", "double_values", "int_range", "int_values", "string_values"}
    assert kinds <= set(result["completion"]), result["completion"]
    assert any(title.startswith("4 hyper-parameters · ") and "4 runs (random)" in title for title in result["lenses"]), result["lenses"]
