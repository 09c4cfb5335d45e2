"""Half-width punctuation in duban's own Chinese sentences: find it, and fix it.

Official Chinese text uses the full-width marks \uff0c \uff1a \uff1b \uff08 \uff09; a comma,
colon, semicolon or parenthesis written in ASCII next to a Chinese character is a slip.
This module is both the check (tests/test_messages.py scans the message strings of the
code with `scan`) and the tool that fixes them, re-runnable after a merge:

    python tests/punctuation.py            # list what is wrong
    python tests/punctuation.py --fix      # rewrite the string literals in place

Only string literals are touched, each by its exact source span (tokenize), so code,
comments and layout stay as they are. Skipped: whatever is inside {...} (f-string
expressions and format specs, YAML/JSON examples), raw strings, literals passed to the `re` module (patterns that match
users' documents), docstrings written in English (developer notes), and lines marked
`# ascii-punct` (user or document text kept as written).

The importers (workflow/importers/) read real documents: most of their strings are what
documents say (separators, header words, grammar words, patterns) and stay as written. There
only duban's own sentences are checked: the arguments of the calls that build a message
(`MESSAGE_CALLS`: BadInput(...), warnings.append(...), …), the values given to a variable
named like one (`MESSAGE_TARGETS`), and what those name in the same module (a constant,
a local, a loop's list, a parameter's default, the return value of a function of the module),
bar the arguments of str methods and comparisons (`s.strip(" ,，")`, `ch in "(（"`), which
match documents.
"""
from __future__ import annotations

import ast
import io
import re
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FULL = {",": "\uff0c", ":": "\uff1a", ";": "\uff1b", "(": "\uff08", ")": "\uff09"}
MARKER = "# ascii-punct"
# Chinese characters and the marks and quotes that sit among them (、。《》“”… and the
# full-width marks themselves, so "）;" is caught as well as "中;").
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\u2018-\u201d\u2026\u2014\uff01-\uff5e]")


def _is_cjk(ch: str) -> bool:
    return bool(ch) and bool(_CJK.match(ch))


def scope() -> list[Path]:
    """The Python files whose strings are duban's own messages, help and output (in the
    importers only the message-building expressions: `messages_only`)."""
    files = [ROOT / "cli.py"]
    for folder in ("commands", "workflow", "states", "web"):
        files += sorted((ROOT / folder).rglob("*.py"))
    files += sorted((ROOT / "notifications").glob("*.py"))
    return files


def messages_only(path: Path) -> bool:
    return "importers" in path.parts


# What builds a sentence for a reader in the importers: a call (by its name, or the last
# part of its receiver and its method), or only some keywords of a call.
MESSAGE_CALLS = {"BadInput", "Doubt", "Mark", "Comment", "decode_bytes", "sheet.cell",
                 "warnings.append", "warnings.extend", "parts.append", "notes.append",
                 "remarks.append", "nested.append", "lines.append"}
MESSAGE_KEYWORDS = {"DataValidation": {"error", "errorTitle", "prompt", "promptTitle"}}
MESSAGE_TARGETS = {"warnings", "message", "lines"}
# Calls whose string arguments match text rather than say something.
_MATCHING = {"strip", "lstrip", "rstrip", "split", "rsplit", "partition", "rpartition", "replace",
             "startswith", "endswith", "find", "rfind", "index", "rindex", "count", "translate",
             "maketrans", "removeprefix", "removesuffix"}

# Calls whose arguments are part of what they return ("、".join(names), enumerate(NOTES)).
_PASSING = {"join", "format", "enumerate", "list", "tuple", "sorted", "reversed", "zip", "str", "set",
            "dict", "next", "iter"}


def _callee(func: ast.AST) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        owner = func.value
        base = owner.id if isinstance(owner, ast.Name) else owner.attr if isinstance(owner, ast.Attribute) else ""
        return f"{base}.{func.attr}"
    return ""


def _target_names(target: ast.AST) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, ast.Attribute):
        return [target.attr]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [n for t in target.elts for n in _target_names(t)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []


def _bindings(body: ast.AST) -> dict[str, list[ast.AST]]:
    """name -> the expressions it is given in `body` (not inside nested functions):
    assignments, loop and comprehension lists, a parameter's default."""
    found: dict[str, list[ast.AST]] = {}

    def bind(target: ast.AST, value: ast.AST | None) -> None:
        for name in _target_names(target):
            if value is not None:
                found.setdefault(name, []).append(value)

    if isinstance(body, (ast.FunctionDef, ast.AsyncFunctionDef)):
        args = body.args
        positional = [*args.posonlyargs, *args.args]
        for arg, default in zip(positional[len(positional) - len(args.defaults):], args.defaults):
            bind(ast.Name(arg.arg), default)
        for arg, default in zip(args.kwonlyargs, args.kw_defaults):
            bind(ast.Name(arg.arg), default)
    todo = list(ast.iter_child_nodes(body))
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, ast.Assign):
            for target in node.targets:
                bind(target, node.value)
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
            bind(node.target, node.value)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
            bind(node.target, node.iter)
        todo.extend(ast.iter_child_nodes(node))
    return found


Span = tuple[tuple[int, int], tuple[int, int]]


def _span(node: ast.AST) -> Span:
    return (node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset)


def message_spans(tree: ast.AST) -> tuple[list[Span], list[Span]]:
    """(within, except): the spans of the expressions that build one of duban's sentences
    (see the module's docstring), and the spans inside them that match documents. A string
    token is checked when it starts within the first and not within the second."""
    functions = {node.name: node for node in ast.walk(tree)
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    module = _bindings(tree)
    local = {name: _bindings(node) for name, node in functions.items()}
    enclosing: dict[int, str] = {}
    for name, node in functions.items():  # outer functions first: inner ones overwrite
        for sub in ast.walk(node):
            enclosing[id(sub)] = name

    seeds: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            callee = _callee(node.func)
            tail = callee.split(".")[-1]
            if callee in MESSAGE_CALLS:
                seeds += [*node.args, *(k.value for k in node.keywords)]
            seeds += [k.value for k in node.keywords if k.arg in MESSAGE_KEYWORDS.get(tail, ())]
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(set(_target_names(t)) & MESSAGE_TARGETS for t in targets):
                seeds.append(node.value)

    within: list[Span] = []
    matching: list[Span] = []
    seen: set[int] = set()
    todo = [(seed, enclosing.get(id(seed))) for seed in seeds]
    while todo:
        expr, where = todo.pop()
        if id(expr) in seen:
            continue
        seen.add(id(expr))
        within.append(_span(expr))
        walk = [expr]
        while walk:
            node = walk.pop()
            if isinstance(node, ast.Compare):
                matching.append(_span(node))
                continue
            if isinstance(node, ast.Call):
                name = _callee(node.func)
                if name.split(".")[-1] in _MATCHING or name.startswith("re."):
                    matching.append(_span(node))
                    continue
                if isinstance(node.func, ast.Name) and node.func.id in functions:
                    fn = functions[node.func.id]  # what it returns is part of the sentence
                    todo += [(r.value, fn.name) for r in ast.walk(fn)
                             if isinstance(r, ast.Return) and r.value is not None]
                    continue
                if name.split(".")[-1] not in _PASSING:  # its arguments are its input, not text
                    continue
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                scope_names = local.get(where, {}) if where else {}
                if node.id in scope_names:
                    todo += [(v, where) for v in scope_names[node.id]]
                else:
                    todo += [(v, None) for v in module.get(node.id, [])]
            walk.extend(ast.iter_child_nodes(node))
    return within, matching


def fix_text(text: str, skip: set[int] | None = None) -> str:
    """fix_text_once until nothing changes ("中),(" needs two rounds: the comma touches
    Chinese only once the parenthesis has become full-width)."""
    while True:
        fixed = fix_text_once(text, skip)
        if fixed == text:
            return fixed
        text = fixed


def fix_text_once(text: str, skip: set[int] | None = None) -> str:
    """`text` with ASCII ,:;() next to Chinese made full-width; `skip`: indexes left alone.

    A parenthesis pair is changed together: if either half touches Chinese, both do.
    """
    skip = skip or set()
    chars = list(text)
    change: set[int] = set()
    opened: list[int] = []
    pairs: dict[int, int] = {}
    for i, ch in enumerate(chars):
        if i in skip:
            continue
        if ch == "(":
            opened.append(i)
        elif ch == ")" and opened:
            pairs[opened.pop()] = i
    shell = {a: b for a, b in pairs.items() if a and chars[a - 1] == "$"}
    for i, ch in enumerate(chars):
        if i in skip or ch not in FULL:
            continue
        prev = chars[i - 1] if i else ""
        nxt = chars[i + 1] if i + 1 < len(chars) else ""
        if ch == ";" and re.search(r"&#?\w+$", text[:i]):  # an HTML entity: &gt;
            continue
        if ch in "()" and (i in shell or i in shell.values()):  # $(cat …): a shell command
            continue
        if ch == ":" and text[i + 1:i + 3] == "//":  # a URL's scheme: postgresql://
            continue
        if _is_cjk(prev) or _is_cjk(nxt):
            change.add(i)
        elif i - 1 in skip or i + 1 in skip:
            # Next to an interpolated field ("{due},{outcome}") in a Chinese sentence: the
            # field is text too. ("{host}:{port}" is marked `# ascii-punct` where it is built.)
            change.add(i)
    for a, b in pairs.items():
        if a not in shell and (a in change or b in change):
            change.update((a, b))
    for i in change:
        chars[i] = FULL[chars[i]]
    return "".join(chars)


def _brace_spans(body: str) -> set[int]:
    """Indexes inside braces: an f-string's {expression:format}, a str.format field, and
    the {key: value} examples of YAML or JSON a message shows (written {{…}} in an
    f-string), which users copy and must stay ASCII."""
    inside: set[int] = set()
    depth = 0
    for i, ch in enumerate(body):
        if ch == "{":
            depth += 1
        if depth:
            inside.add(i)
        if ch == "}" and depth:
            depth -= 1
    return inside


def fix_literal(token: str) -> str:
    """One STRING token's source, fixed (prefix and quotes kept)."""
    m = re.match(r"(?is)^([rbuf]*)('''|\"\"\"|'|\")", token)
    if not m or "b" in m.group(1).lower():
        return token
    prefix, quote = m.groups()
    if "r" in prefix.lower():  # a raw string is a pattern or a path, not a sentence
        return token
    body = token[len(prefix) + len(quote):len(token) - len(quote)]
    if not _CJK.search(body):
        return token
    return token[:len(prefix) + len(quote)] + fix_text(body, _brace_spans(body)) + quote


def _english_docstrings(tree: ast.AST) -> set[tuple[int, int]]:
    """(line, col) of docstrings written in English (developer notes quoting some Chinese):
    left alone. A Chinese docstring (a command's help text) is a sentence duban shows."""
    spots: set[tuple[int, int]] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                text = first.value.value
                letters = sum(ch.isascii() and ch.isalpha() for ch in text)
                if letters > len(_CJK.findall(text)):
                    spots.add((first.value.lineno, first.value.col_offset))
    return spots


def _regex_lines(tree: ast.AST) -> set[tuple[int, int]]:
    """(line, col) of string constants passed to re.* (patterns, not sentences)."""
    spots: set[tuple[int, int]] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "re":
            for arg in node.args[:1]:
                for sub in ast.walk(arg):
                    if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                        spots.add((sub.lineno, sub.col_offset))
    return spots


def fix_source(source: str, messages_only: bool = False) -> str:
    """`source` with its string literals fixed; with `messages_only` (the importers) only
    those of the expressions that build a message (`message_spans`)."""
    tree = ast.parse(source)
    regex = _regex_lines(tree) | _english_docstrings(tree)
    within, matching = message_spans(tree) if messages_only else ([], [])
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    edits = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type != tokenize.STRING:
            continue
        (row, col), (erow, ecol) = tok.start, tok.end
        if (row, col) in regex or any(MARKER in lines[r - 1] for r in range(row, erow + 1)):
            continue
        if messages_only and (not any(a <= tok.start < b for a, b in within)
                              or any(a <= tok.start < b for a, b in matching)):
            continue
        fixed = fix_literal(tok.string)
        if fixed != tok.string:
            edits.append((offsets[row - 1] + col, offsets[erow - 1] + ecol, fixed))
    for start, end, text in reversed(edits):
        source = source[:start] + text + source[end:]
    return source


def scan(path: Path) -> list[tuple[int, str]]:
    """(line, literal) of every string literal that `fix_source` would change."""
    source = path.read_text(encoding="utf-8")
    fixed = fix_source(source, messages_only(path))
    if fixed == source:
        return []
    out = []
    for number, (old, new) in enumerate(zip(source.splitlines(), fixed.splitlines()), 1):
        if old != new:
            out.append((number, old.strip()[:120]))
    return out


def main(argv: list[str]) -> int:
    fix = "--fix" in argv
    found = 0
    for path in scope():
        problems = scan(path)
        found += len(problems)
        for number, line in problems:
            print(f"{path.relative_to(ROOT)}:{number}: {line}")
        if fix and problems:
            path.write_text(fix_source(path.read_text(encoding="utf-8"), messages_only(path)), encoding="utf-8")
    print(f"{found} line(s) {'fixed' if fix else 'to fix'}", file=sys.stderr)
    return 1 if found and not fix else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
